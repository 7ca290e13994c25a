"""The statements in flight, which a list the user asks for waits for (`decoding.py`)."""

import asyncio
import time

from nib.model.service.decoding import Decoding


async def _decode(decoding: Decoding, doc: str, text: str, cursor: int, seconds: float) -> None:
    with decoding.running(doc, text, cursor):
        await asyncio.sleep(seconds)


async def test_a_wait_ends_when_the_statement_at_its_place_is_decoded():
    decoding = Decoding()
    statement = asyncio.ensure_future(_decode(decoding, "a", "x = ", 4, 0.2))
    await asyncio.sleep(0)  # it has started
    waited = await decoding.wait("a", "x = ", 4, time.monotonic() + 5)
    assert statement.done() and 150 <= waited < 2000
    assert await decoding.wait("a", "x = ", 4, time.monotonic() + 5) == 0.0  # none in flight any more


async def test_a_wait_ends_at_its_deadline_and_the_statement_goes_on():
    decoding = Decoding()
    statement = asyncio.ensure_future(_decode(decoding, "a", "x = ", 4, 0.5))
    await asyncio.sleep(0)
    waited = await decoding.wait("a", "x = ", 4, time.monotonic() + 0.1)
    assert 50 <= waited < 450 and not statement.done()
    await statement


async def test_no_wait_for_a_statement_at_another_place_in_another_text_or_document():
    decoding = Decoding()
    statement = asyncio.ensure_future(_decode(decoding, "a", "x = ", 4, 0.5))
    await asyncio.sleep(0)
    assert [
        await decoding.wait("a", "x = ", 3, time.monotonic() + 5),
        await decoding.wait("a", "x = y", 4, time.monotonic() + 5),
        await decoding.wait("b", "x = ", 4, time.monotonic() + 5),
    ] == [0.0, 0.0, 0.0]
    assert not statement.done()
    await statement


async def test_a_statement_that_fails_ends_the_wait_and_leaves_nothing_behind():
    decoding = Decoding()

    async def failing():
        with decoding.running("a", "x = ", 4):
            await asyncio.sleep(0.1)
            raise RuntimeError("the model failed")

    statement = asyncio.ensure_future(failing())
    await asyncio.sleep(0)
    assert await decoding.wait("a", "x = ", 4, time.monotonic() + 5) > 50
    assert isinstance(statement.exception(), RuntimeError) and decoding._now == {}
