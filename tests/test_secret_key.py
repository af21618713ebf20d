"""The instance's generated secret key: one key for every process started on an empty instance
directory, never a half-written one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lti_tool import config


def test_a_generated_key_is_kept_private_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SOCLE_SECRET_KEY", raising=False)
    first = config._secret_key(tmp_path / "instance")
    assert len(first) >= 64
    assert config._secret_key(tmp_path / "instance") == first
    key_file = tmp_path / "instance" / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in key_file.parent.iterdir()) == ["secret_key"]


def test_a_process_that_loses_the_race_takes_the_winners_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process publishes its key between this one's look and its own publication."""
    monkeypatch.delenv("SOCLE_SECRET_KEY", raising=False)
    instance = tmp_path / "instance"
    real_token = config.secrets.token_urlsafe

    def other_process_wins(nbytes: int) -> str:
        (instance / "secret_key").write_text("the-winners-key", encoding="utf-8")
        return real_token(nbytes)

    monkeypatch.setattr(config.secrets, "token_urlsafe", other_process_wins)
    assert config._secret_key(instance) == "the-winners-key"
    assert sorted(p.name for p in instance.iterdir()) == ["secret_key"]  # no candidate left


def test_processes_started_together_agree_on_one_key(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if k != "SOCLE_SECRET_KEY"}
    code = "from pathlib import Path; from lti_tool.config import _secret_key; import sys;"
    code += "print(_secret_key(Path(sys.argv[1])))"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(instance)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    results = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0] * 6, [err for _out, err in results]
    keys = {out.strip() for out, _err in results}
    assert keys == {(instance / "secret_key").read_text(encoding="utf-8")}
