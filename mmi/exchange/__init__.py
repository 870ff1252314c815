"""The exchange: publish the master index's changes to the departments that subscribe, as Avro change sets.

    publish(settings, engine) -> PublishReport      every pending change set, from the outbox (`master_event`)
    exchange_settings(settings) -> ExchangeSettings  the change-set folder and the subscriptions from the config

Internals: `subscriptions` (config), `routing` (who gets an event, and what of it), `projection` (the same,
fused with the encoding into one generated function per subscription: what the publisher runs), `changesets` (Avro files),
`gaps` (late-committed events), `publisher` (the transaction per batch; where crash tests kill it: mmi.failpoints),
`deliveries` (what the API reads and records).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mmi.exchange.publisher import PublishReport, publish
    from mmi.exchange.subscriptions import ExchangeSettings, Subscription, exchange_settings

__all__ = ["ExchangeSettings", "PublishReport", "Subscription", "exchange_settings", "publish"]
_HOMES = {
    "PublishReport": "publisher",
    "publish": "publisher",
    "ExchangeSettings": "subscriptions",
    "Subscription": "subscriptions",
    "exchange_settings": "subscriptions",
}


def __getattr__(name: str) -> Any:
    """Each name from its module on first use: reading the config (mmi.exchange.subscriptions) must not load the
    publisher and its encoder."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
