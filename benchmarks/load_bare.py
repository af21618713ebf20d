"""Locust users of the ceiling: each POSTs one row to ``benchmarks/bare_app.py`` in a loop,
without think time, alternating between the two nodes as Socle's agents do.

Started by ``benchmarks/load.py``; not meant to be run alone.
"""

from __future__ import annotations

import os
import random
import uuid

from locust import HttpUser, task

NODES = os.environ["SOCLE_LOAD_NODES"].split(",")


class BareClient(HttpUser):
    host = NODES[0]

    def on_start(self) -> None:
        self.turn = random.randrange(len(NODES))
        self.attempt = str(uuid.uuid4())
        self.seq = 0

    @task
    def insert(self) -> None:
        self.turn = (self.turn + 1) % len(NODES)
        self.seq += 1
        self.client.post(
            NODES[self.turn] + "/insert",
            data={"attempt": self.attempt, "seq": str(self.seq), "answer": "B"},
            name="insert",
        )
