"""JetStream streams of a federation node.

For now only each node's own upward stream `UP_<code>` (subjects `up.<code>.>`); the sync service will
own stream declaration (sources from children, `UP_ALL`, downward streams) in a later issue.
"""

from __future__ import annotations

import nats
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

DUPLICATE_WINDOW_SECONDS = 20 * 60


def up_stream_name(node_code: str) -> str:
    """`UP_<code>` literally (`UP_gd-gz`): '-' is valid in a stream name, '.' is not and never in a code."""
    return f"UP_{node_code}"


def up_subjects(node_code: str) -> list[str]:
    return [f"up.{node_code}.>"]


async def declare_node_streams(nats_url: str, node_code: str) -> None:
    """Create or update the node's `UP_<code>` stream on its own server; idempotent.

    An existing stream keeps everything this function does not own (e.g. sources added by sync); only
    subjects, retention and the dedupe window are brought to the declared values.
    """
    nc = await nats.connect(nats_url, connect_timeout=5, max_reconnect_attempts=3)
    try:
        js = nc.jetstream()
        name = up_stream_name(node_code)
        subjects = up_subjects(node_code)
        try:
            info = await js.stream_info(name)
        except NotFoundError:
            await js.add_stream(
                StreamConfig(
                    name=name,
                    description=f"events originating at node {node_code}",
                    subjects=subjects,
                    storage=StorageType.FILE,
                    retention=RetentionPolicy.LIMITS,
                    duplicate_window=DUPLICATE_WINDOW_SECONDS,
                )
            )
            return
        config = info.config
        if (
            sorted(config.subjects or []) != sorted(subjects)
            or config.retention != RetentionPolicy.LIMITS
            or config.duplicate_window != DUPLICATE_WINDOW_SECONDS
        ):
            await js.update_stream(
                config.evolve(
                    subjects=subjects,
                    retention=RetentionPolicy.LIMITS,
                    duplicate_window=DUPLICATE_WINDOW_SECONDS,
                )
            )
    finally:
        await nc.close()
