"""The local stack on a bad day (issue 29, item 20): it restarts at once after Ctrl-C, stops quietly while a
scheduled run is under way, and its dev.json carries what `atelier mail send` needs."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import pytest

from atelier.cli import main
from atelier_local.cli import _port_free
from atelier_local.stack import LocalStack


def _port_in_time_wait() -> int:
    """A port whose listener has closed, leaving a connection it closed first in TIME-WAIT (as after Ctrl-C)."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = int(listener.getsockname()[1])
    client = socket.create_connection(("127.0.0.1", port))
    served, _ = listener.accept()
    served.close()  # the server closes first: its side waits in TIME-WAIT
    time.sleep(0.05)
    client.close()
    listener.close()
    return port


def test_the_port_probe_takes_a_port_held_only_by_time_wait() -> None:
    port = _port_in_time_wait()
    _port_free(port)  # raises ConfigurationError when the probe cannot bind

    with socket.socket() as held:  # a live listener still blocks it
        held.bind(("127.0.0.1", 0))
        held.listen()
        from atelier.kernel.errors import ConfigurationError

        with pytest.raises(ConfigurationError, match="in use"):
            _port_free(int(held.getsockname()[1]))


@pytest.mark.integration
def test_mail_send_works_against_a_running_stack_from_dev_json_alone(
    stack: LocalStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / ".atelier" / "dev.json"
    stack.write_dev_state(state)
    monkeypatch.chdir(tmp_path)
    for name in ("MAIL_FROM", "SES_ENDPOINT_URL"):  # as in a fresh shell beside `make dev`
        monkeypatch.delenv(name, raising=False)

    assert main(["mail", "send", "--budget", "5"]) == 0
    assert "mail: 0 claimed" in capsys.readouterr().out


@pytest.mark.integration
def test_stopping_during_a_scheduled_run_waits_for_it_and_prints_no_traceback(
    stack: LocalStack, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stack.setup_notion()
    lambdas = stack.front_door_lambdas()
    invoke = lambdas.invoke

    def slow_invoke(*args: Any, **kwargs: Any) -> Any:  # a run that takes a while, as on a real backlog
        time.sleep(1.0)
        return invoke(*args, **kwargs)

    monkeypatch.setattr(lambdas, "invoke", slow_invoke)
    stack.start_schedule(0.01)
    time.sleep(0.3)  # a run is under way
    schedule = stack._scheduler
    assert schedule is not None

    stack.stop()

    # Then no run is left going when stop returns (`atelier dev` stops Postgres next), and nothing was printed
    assert not schedule.is_alive()
    assert "Traceback" not in capfd.readouterr().err
