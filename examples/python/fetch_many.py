import anyio

async def fetch(limiter, i, fetched):
    async with limiter:                        # at most 2 requests at once
        await anyio.sleep(0.1 * (i % 3 + 1))   # stands for the request
        print(f"fetched {i}")
        fetched.append(i)

async def main():
    limiter = anyio.CapacityLimiter(2)
    fetched = []
    try:
        with anyio.fail_after(0.45):
            async with anyio.create_task_group() as tg:
                for i in range(6):
                    tg.start_soon(fetch, limiter, i, fetched)
    except TimeoutError:
        print(f"timed out: {len(fetched)} of 6 fetched")

anyio.run(main)
