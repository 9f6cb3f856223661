import asyncio
import time

from bot.messaging.ratelimit import KeyedBuckets, TokenBucket


async def test_bucket_holds_the_rate_after_the_burst():
    bucket = TokenBucket(rate=20, burst=5)
    start = time.monotonic()
    for _ in range(15):
        await bucket.acquire()
    elapsed = time.monotonic() - start
    # 5 immediately, then 10 more at 20/s: about half a second
    assert 0.4 <= elapsed < 1.5


async def test_keys_are_limited_independently():
    buckets = KeyedBuckets(rate=2, burst=1)
    start = time.monotonic()
    await asyncio.gather(buckets.acquire("a"), buckets.acquire("b"), buckets.acquire("c"))
    assert time.monotonic() - start < 0.2
    await buckets.acquire("a")
    assert time.monotonic() - start >= 0.4
