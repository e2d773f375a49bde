import trio

async def worker(i):
    await trio.sleep(0.01 * (2 - i % 2))       # odd workers fail first, at 10 ms
    if i % 2:
        raise ValueError(f"worker {i}: odd input")
    print(f"worker {i} done")

async def main():
    try:
        async with trio.open_nursery() as nursery:
            for i in range(4):
                nursery.start_soon(worker, i)
    except* ValueError as group:
        for e in group.exceptions:
            print("failed:", e)
        print(f"{len(group.exceptions)} of 4 failed")

trio.run(main)
