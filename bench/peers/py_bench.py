"""asyncio and trio: sleep(0) ping-pong between two tasks, queue / memory
channel ping-pong, and spawning 100k tasks that finish at once.  Prints
"library<TAB>operation<TAB>ns/op median<TAB>min<TAB>max" lines."""
import asyncio
import statistics
import time

RUNS = 5


def report(lib, name, fn, n):
    fn(max(1, n // 10))
    v = sorted(fn(n) / n for _ in range(RUNS))
    print(f"{lib}\t{name}\t{statistics.median(v):.2f}\t{v[0]:.2f}\t{v[-1]:.2f}", flush=True)


def asyncio_yield(n):
    async def worker(k):
        for _ in range(k):
            await asyncio.sleep(0)

    async def main():
        t0 = time.perf_counter_ns()
        await asyncio.gather(worker(n // 2), worker(n // 2))
        return time.perf_counter_ns() - t0

    return asyncio.run(main())


def asyncio_queue(n):
    async def main():
        a, b = asyncio.Queue(1), asyncio.Queue(1)

        async def ping():
            for i in range(n // 2):
                await a.put(i)
                await b.get()

        async def pong():
            for _ in range(n // 2):
                await b.put(await a.get())

        t0 = time.perf_counter_ns()
        await asyncio.gather(ping(), pong())
        return time.perf_counter_ns() - t0

    return asyncio.run(main())


def asyncio_spawn(n):
    async def child():
        return 0

    async def main():
        t0 = time.perf_counter_ns()
        async with asyncio.TaskGroup() as tg:
            for _ in range(n):
                tg.create_task(child())
        return time.perf_counter_ns() - t0

    return asyncio.run(main())


report("asyncio", "scheduled yield, 2 tasks", asyncio_yield, 200000)
report("asyncio", "queue ping-pong, per one-way message", asyncio_queue, 200000)
report("asyncio", "spawn 100k tasks + wait (per task)", asyncio_spawn, 100000)

try:
    import trio
except ImportError:
    trio = None

if trio is not None:
    def trio_yield(n):
        async def worker(k):
            for _ in range(k):
                await trio.sleep(0)

        async def main():
            t0 = time.perf_counter_ns()
            async with trio.open_nursery() as nursery:
                nursery.start_soon(worker, n // 2)
                nursery.start_soon(worker, n // 2)
            return time.perf_counter_ns() - t0

        return trio.run(main)

    def trio_chan(n):
        async def main():
            sa, ra = trio.open_memory_channel(0)
            sb, rb = trio.open_memory_channel(0)

            async def ping():
                for i in range(n // 2):
                    await sa.send(i)
                    await rb.receive()

            async def pong():
                for _ in range(n // 2):
                    await sb.send(await ra.receive())

            t0 = time.perf_counter_ns()
            async with trio.open_nursery() as nursery:
                nursery.start_soon(ping)
                nursery.start_soon(pong)
            return time.perf_counter_ns() - t0

        return trio.run(main)

    def trio_spawn(n):
        async def child():
            return 0

        async def main():
            t0 = time.perf_counter_ns()
            async with trio.open_nursery() as nursery:
                for _ in range(n):
                    nursery.start_soon(child)
            return time.perf_counter_ns() - t0

        return trio.run(main)

    report("trio", "scheduled yield, 2 tasks", trio_yield, 100000)
    report("trio", "memory channel ping-pong, per one-way message", trio_chan, 100000)
    report("trio", "spawn 100k tasks + wait (per task)", trio_spawn, 100000)
