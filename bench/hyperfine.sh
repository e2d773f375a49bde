#!/bin/sh
# Whole-process comparisons with hyperfine (warm-up, repeated runs), exported
# as markdown to OUT/hyperfine-*.md.
#
#   sh bench/hyperfine.sh BUILD_DIR CC "CFLAGS" OUT
set -u
build="$1"
out="$4"
mkdir -p "$out"
command -v hyperfine >/dev/null 2>&1 || { echo "hyperfine is not installed"; exit 1; }

# 100,000 tasks spawned, each finishing at once, all waited for.
hyperfine -N --warmup 1 --runs 5 --export-markdown "$out/hyperfine-spawn.md" \
    -n "aio: 100k tasks sleeping on the virtual clock" "$build/bench/bench_scale 100000" \
    -n "asyncio: 100k tasks sleep(0)" \
    "python3 -c 'import asyncio
async def c(): await asyncio.sleep(0)
async def m():
    async with asyncio.TaskGroup() as g:
        for _ in range(100000): g.create_task(c())
asyncio.run(m())'"

# 100,000 one-way messages between two tasks.
hyperfine -N --warmup 1 --runs 5 --export-markdown "$out/hyperfine-pingpong.md" \
    -n "aio: 100k event ping-pong hand-offs" "$build/bench/check_icount event 100000" \
    -n "asyncio: 100k queue ping-pong messages" \
    "python3 -c 'import asyncio
async def m():
    a, b = asyncio.Queue(1), asyncio.Queue(1)
    async def ping():
        for i in range(50000):
            await a.put(i); await b.get()
    async def pong():
        for _ in range(50000):
            await b.put(await a.get())
    await asyncio.gather(ping(), pong())
asyncio.run(m())'"
cat "$out/hyperfine-spawn.md" "$out/hyperfine-pingpong.md"
