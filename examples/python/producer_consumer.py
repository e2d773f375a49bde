import asyncio

def checksum(n):                       # blocking work: runs on a thread
    return sum(range(n)) % 97

async def consumer(q, results):
    while True:
        n = await q.get()
        results[n] = await asyncio.to_thread(checksum, n)
        q.task_done()

async def main():
    q, results = asyncio.Queue(maxsize=2), {}
    workers = [asyncio.create_task(consumer(q, results)) for _ in range(2)]
    for n in range(1000, 6000, 1000):
        await q.put(n)
    await q.join()
    for w in workers:
        w.cancel()
    for n in sorted(results):
        print(f"checksum({n}) = {results[n]}")

asyncio.run(main())
