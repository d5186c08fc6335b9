#!/usr/bin/env python3
"""Runs the PyPI mtprotoproxy 1.0.6 script unchanged on Python >= 3.10.

mtprotoproxy 1.0.6 calls asyncio.start_server(..., loop=loop); the `loop` argument was
removed in Python 3.10, so it dies with "TypeError: BaseEventLoop.create_server() got an
unexpected keyword argument 'loop'".  This shim drops that one argument and then runs the
installed script as __main__:   run_mtprotoproxy.py /path/to/mtprotoproxy.py CONFIG.py
"""
import asyncio, functools, runpy, sys


def _drop_loop(f):
    @functools.wraps(f)
    def w(*a, loop=None, **k):
        return f(*a, **k)
    return w


asyncio.start_server = _drop_loop(asyncio.start_server)
asyncio.start_unix_server = _drop_loop(asyncio.start_unix_server)
script = sys.argv[1]
sys.argv = [script] + sys.argv[2:]
runpy.run_path(script, run_name="__main__")
