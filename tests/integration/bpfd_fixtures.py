"""Fixtures and hooks shared by tests/integration and tests/interop (each conftest.py imports
them): a private bpfd per test, veth pairs in test network namespaces, generated gRPC stubs and
a session-end leak check. See bpfdtest.py for the helpers.

Run: BPFD_BUILD_DIR=<meson build dir> /usr/bin/python3 -m pytest tests/integration
Needs root; every test is skipped otherwise.
"""

import os
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bpfdtest  # noqa: E402

__all__ = ["pytest_configure", "pytest_collection_modifyitems", "pytest_sessionfinish",
           "pytest_runtest_makereport", "build", "leaks",
           "daemon_factory", "daemon", "netpair", "stubs", "files_dir"]


def pytest_configure(config):
    config.addinivalue_line("markers", "no_root: the test needs no root (runs for any user)")


def pytest_collection_modifyitems(config, items):
    if os.geteuid() != 0:
        skip = pytest.mark.skip(reason="needs root: loads eBPF programs, creates netns/veth, "
                                       "mounts bpffs")
        for item in items:
            if item.get_closest_marker("no_root") is None:
                item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


def _failed(request):
    rep = getattr(request.node, "rep_call", None)
    return rep is not None and rep.failed


@pytest.fixture(scope="session")
def build():
    b = bpfdtest.build_from_env()
    missing = b.missing()
    if missing:
        pytest.fail(f"build directory {b.root} (BPFD_BUILD_DIR) lacks: {', '.join(missing)}")
    return b


@pytest.fixture(scope="session")
def leaks(request):
    """Session bookkeeping; at the end fails the run if anything the suite made is left."""
    tmp_root = tempfile.mkdtemp(prefix=f"bpfd-t{os.getpid()}-")
    # Searchable (not listable) by others: daemons running as the service user and clients
    # running as test users must reach their own directories below it.
    os.chmod(tmp_root, 0o711)
    tracker = bpfdtest.Leaks(tmp_root)
    yield tracker
    tracker.final_check()
    if tracker.problems:
        request.config._bpfd_leak_problems = list(tracker.problems)
        # Normally this teardown belongs to the last test and shows as its ERROR; after -x
        # or a crash it runs from sessionfinish, where pytest_sessionfinish reports instead.
        if not (request.session.shouldstop or request.session.shouldfail):
            pytest.fail("leak check:\n  " + "\n  ".join(tracker.problems), pytrace=False)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    problems = getattr(session.config, "_bpfd_leak_problems", None)
    if problems:
        print("\nbpfd leak check failed:\n  " + "\n  ".join(problems), file=sys.stderr)
        if session.exitstatus == 0:
            session.exitstatus = 1


@pytest.fixture
def daemon_factory(build, leaks, request):
    """Makes private daemons (started), cleaned up after the test whatever happened."""
    made = []

    def make(start=True, **kw):
        n = leaks.next_index()
        d = bpfdtest.Daemon(build, leaks.tmp_root / f"d{n}", leaks, test=request.node.nodeid,
                            **kw)
        made.append(d)
        return d.start() if start else d

    yield make
    for d in made:
        if _failed(request):
            print(f"---- bpfd log ({d.log_path}) ----\n{d.log_tail(120)}")
        d.cleanup()


@pytest.fixture
def daemon(daemon_factory):
    return daemon_factory()


@pytest.fixture
def netpair(leaks):
    """A veth pair: host end in the root netns, peer in a fresh netns (see VethPair)."""
    pair = bpfdtest.VethPair(leaks, leaks.next_index())
    try:
        pair.create()
        yield pair
    finally:
        pair.destroy()


@pytest.fixture(scope="session")
def stubs(leaks):
    """Python gRPC stubs generated from tests/interop/bpfman_v1.proto: (pb2, pb2_grpc)."""
    return bpfdtest.generate_stubs(leaks.tmp_root / "stubs")


@pytest.fixture
def files_dir(leaks):
    """A fresh directory for files a test hands to bpfd: under the suite's temp root, and
    readable by the service user when bpfd runs as one (pytest's tmp_path is root-only)."""
    d = leaks.tmp_root / f"files{leaks.next_index()}"
    d.mkdir(mode=0o755)
    return d
