"""Fixtures and hooks shared by tests/integration and tests/interop (each conftest.py imports
them): a private bpfd per test, veth pairs in test network namespaces, generated gRPC stubs and
a session-end leak check. See bpfdtest.py for the helpers.

Run: BPFD_BUILD_DIR=<meson build dir> /usr/bin/python3 -m pytest tests/integration
Needs root; every test is skipped otherwise.
"""

import os
import pathlib
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bpfdtest  # noqa: E402
import capsrec  # noqa: E402

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
    recorder = capsrec.CapsRecorder()
    if os.geteuid() == 0:
        bpfdtest.ensure_tracefs()
        recorder.start()
    tracker.caps_recorder = recorder
    yield tracker
    tracker.final_check()
    check_recorded_caps(recorder, tracker, request)
    if tracker.problems:
        request.config._bpfd_leak_problems = list(tracker.problems)
        # Normally this teardown belongs to the last test and shows as its ERROR; after -x
        # or a crash it runs from sessionfinish, where pytest_sessionfinish reports instead.
        if not (request.session.shouldstop or request.session.shouldfail):
            pytest.fail("leak check:\n  " + "\n  ".join(tracker.problems), pytrace=False)


def check_recorded_caps(recorder, tracker, request):
    """Writes what bpfd's threads asked for to <build>/caps-recorded-<mode>.json, and notes a
    problem for any capability bpfd used that bpfd.service does not grant."""
    caps = recorder.stop()
    if caps is None:
        print(f"capability recording skipped: {recorder.why_not or 'not root'}")
        return
    mode = "service-user" if bpfdtest.service_user_mode() else "root"
    # Only a whole run (meson sets BPFD_CAPS_FULL_RUN) says what bpfd needs; a run of a few
    # tests says nothing about the capabilities it did not exercise.
    full_run = os.environ.get("BPFD_CAPS_FULL_RUN") == "1"
    build_dir = os.environ.get("BPFD_BUILD_DIR")
    if build_dir and full_run:
        capsrec.write_report(pathlib.Path(build_dir) / f"caps-recorded-{mode}.json", mode, caps)
    unit = set(bpfdtest.unit_capabilities())
    for name, counts in sorted(caps.items()):
        # As root every check succeeds, so "granted" is what bpfd exercised; as the service
        # user a granted check outside the unit would mean the sandbox leaks.
        if counts["granted"] and name not in unit and name not in capsrec.TOLERATED:
            tracker.problem(f"bpfd used {name} ({counts['granted']} checks granted) but "
                            f"bpfd.service does not grant it: add it to the unit and "
                            f"docs/capabilities.md, or stop needing it")
    # Every capability of the unit is justified: documented, and exercised by the suite or
    # tied to a named kernel version in its row.
    rows = capsrec.documented_rows()
    for name in sorted(unit | set(capsrec.TOLERATED)):
        if name not in rows:
            tracker.problem(f"{name} has no row in docs/capabilities.md")
        elif (full_run and mode == "root" and name in unit
              and not caps.get(name, {}).get("granted")
              and "Linux" not in rows[name]):
            tracker.problem(f"{name} is in bpfd.service but the suite never exercised it and "
                            f"docs/capabilities.md names no kernel version that needs it")


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
