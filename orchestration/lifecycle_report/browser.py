"""Headless Chromium (Debian's `chromium` package) on the report, with the network off: the rendered DOM,
the console's messages and a screenshot. Used by the browser test and by `make report-screenshot`.

    python -m orchestration.lifecycle_report.browser <report.html> <screenshot.png>
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# no network even without a network namespace: every host resolves to nothing, every proxy is closed
OFFLINE_FLAGS = [
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
]
BASE_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--virtual-time-budget=20000"]


class ChromiumMissingError(RuntimeError):
    pass


@dataclass
class Rendered:
    dom: str
    console: list[str]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise ChromiumMissingError("headless Chromium is needed: apt-get install chromium (make test does it as root)")
    return found


def _command(flags: list[str]) -> list[str]:
    command = [chromium(), *BASE_FLAGS, *OFFLINE_FLAGS, *flags]
    if os.geteuid() == 0 and shutil.which("unshare"):
        command = ["unshare", "--net", *command]  # a network namespace with no interface but loopback
    return command


def render(page: Path) -> Rendered:
    """The DOM after the page's scripts ran, and every console message (CONSOLE lines of Chromium's log)."""
    proc = subprocess.run(
        _command(["--enable-logging=stderr", "--v=0", "--dump-dom", page.resolve().as_uri()]),
        capture_output=True,
        text=True,
        timeout=180,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"chromium failed ({proc.returncode}): {proc.stderr[-2000:]}")
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    return Rendered(dom=proc.stdout, console=console)


def screenshot(page: Path, target: Path, width: int = 1100, height: int = 1400) -> Path:
    """A PNG of the page's first screen."""
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        _command([f"--window-size={width},{height}", f"--screenshot={target.resolve()}", page.resolve().as_uri()]),
        capture_output=True,
        check=True,
        timeout=180,
    )
    return target


if __name__ == "__main__":
    print(screenshot(Path(sys.argv[1]), Path(sys.argv[2])))
