"""`python -m kam_sim10000 --port 8710 [--data-dir DIR] [--latency-ms N] [--failure-rate F] [--down] ...`"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import uvicorn

from .app import create_app
from .config import SimConfig


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="kam_sim10000", description="the customer-service system (10000) simulator")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--data-dir", type=Path, default=None, help="where received messages are kept (restarts keep them)")
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--failure-rate", type=float, default=0.0)
    p.add_argument("--ack-loss-rate", type=float, default=0.0)
    p.add_argument("--down", action="store_true")
    p.add_argument("--call-rate", type=float, default=0.0)
    p.add_argument("--ticket-rate", type=float, default=0.0)
    p.add_argument("--duplicate-rate", type=float, default=0.0)
    p.add_argument("--kam-url", default=os.environ.get("KAM_PUBLIC_URL"))
    p.add_argument("--node", default=os.environ.get("KAM_NODE"))
    p.add_argument("--seed", type=int, default=None)
    a = p.parse_args(argv)
    config = SimConfig(
        latency_ms=a.latency_ms,
        failure_rate=a.failure_rate,
        ack_loss_rate=a.ack_loss_rate,
        down=a.down,
        call_rate=a.call_rate,
        ticket_rate=a.ticket_rate,
        duplicate_rate=a.duplicate_rate,
        kam_url=a.kam_url,
        node=a.node,
        token=os.environ.get("KAM_SIM_TOKEN"),
    )
    if a.data_dir is not None:
        a.data_dir.mkdir(parents=True, exist_ok=True)
    app = create_app(config, a.data_dir, a.seed)
    uvicorn.run(app, host=a.host, port=a.port, log_level="warning")


if __name__ == "__main__":
    main()
