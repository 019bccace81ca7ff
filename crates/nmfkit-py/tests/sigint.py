"""Shared check: Ctrl-C stops a long call in a child Python promptly."""
import signal
import subprocess
import sys
import time


def assert_ctrl_c_interrupts(call):
    """Runs `call` (a statement using np, nmfkit and X) in a child process,
    sends SIGINT after a second, and expects KeyboardInterrupt within 3 s."""
    code = (
        # A shell that starts jobs in the background (no job control) hands
        # them SIGINT ignored, and Python then installs no handler: restore
        # the default so the check does not depend on how it was launched.
        "import signal; signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "import numpy as np, nmfkit, sys\n"
        "X = np.random.RandomState(0).rand(400, 300)\n"
        "print('ready', flush=True)\n"
        "try:\n"
        f"    {call}\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True)\n"
    )
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        time.sleep(1.0)
        t = time.perf_counter()
        p.send_signal(signal.SIGINT)
        out, _ = p.communicate(timeout=10)
        assert "interrupted" in out
        assert time.perf_counter() - t < 3.0
    finally:
        # A failed run must not leave an endless fit behind.
        p.kill()
        p.wait()
