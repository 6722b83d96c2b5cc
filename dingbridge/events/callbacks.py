"""HTTP push callbacks at ``/{space}/dingtalk/events``.

A callback is accepted only when all hold: the space's events come by ``http``; the signature
(``signature`` or ``msg_signature`` over token, timestamp, nonce and ``encrypt``) is right;
the timestamp is within :data:`MAX_AGE` of now; the same signature was not accepted before
(a replay); the plaintext decrypts with the space's aes_key and ends with its AppKey. Then
``check_url`` is answered, a directory event is applied (:mod:`dingbridge.events.apply`),
and the reply is the encrypted ``success`` DingTalk wants.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dingbridge.dingtalk import CallbackCrypto, CallbackCryptoError
from dingbridge.errors import Forbidden, NotFound
from dingbridge.events.apply import handle_event
from dingbridge.events.payload import BadEvent, from_callback
from dingbridge.spaces.dingtalk_settings import load_dingtalk
from dingbridge.spaces.event_settings import callback_secrets

if TYPE_CHECKING:
    from dingbridge.context import AppContext

log = logging.getLogger(__name__)

MAX_AGE = 3600.0


class CallbackRefused(Forbidden):
    code = "callback_refused"


def _seconds(timestamp: str) -> float:
    value = float(timestamp)
    return value / 1000 if value > 1e11 else value  # DingTalk sends milliseconds


async def receive_callback(
    context: AppContext, space_id: int, query: Mapping[str, str], body: bytes
) -> dict[str, Any]:
    async with context.db.session() as session:
        keys = await callback_secrets(session, context.secret_box, space_id)
        config = await load_dingtalk(session, space_id)
    if keys is None or not config.app_key:
        raise NotFound("This space does not take DingTalk event callbacks.")
    crypto = CallbackCrypto(keys[0], keys[1], config.app_key)
    signature = query.get("signature") or query.get("msg_signature") or ""
    timestamp = query.get("timestamp") or query.get("timeStamp") or ""
    nonce = query.get("nonce") or ""
    try:
        encrypt = str(json.loads(body)["encrypt"])
        age = abs(time.time() - _seconds(timestamp))
    except (ValueError, KeyError, TypeError):
        raise CallbackRefused("Not a DingTalk event callback.") from None
    if not (signature and nonce and crypto.verify(signature, timestamp, nonce, encrypt)):
        log.warning("space %d: event callback with a wrong signature refused", space_id)
        raise CallbackRefused("The callback's signature is wrong.")
    if age > MAX_AGE:
        raise CallbackRefused("The callback is too old.")
    replay_key = f"dingtalk-callback:{space_id}:{signature}"
    if not await context.kv.set_if_absent(replay_key, b"1", MAX_AGE * 2):
        log.warning("space %d: replayed event callback refused", space_id)
        raise CallbackRefused("This callback was already received.")
    try:
        plain = json.loads(crypto.decrypt(encrypt))
        if plain.get("EventType") != "check_url":
            await handle_event(context, space_id, from_callback(plain))
    except (CallbackCryptoError, BadEvent, ValueError, AttributeError) as exc:
        await context.kv.delete(replay_key)
        log.warning("space %d: unreadable event callback refused (%s)", space_id, exc)
        raise CallbackRefused("The callback cannot be decrypted or read.") from None
    except BaseException:
        await context.kv.delete(replay_key)
        raise
    return crypto.reply(timestamp, nonce)
