"""bpfctl: `--help` of every verb exits 0 and lists its options (needs no daemon)."""

import pytest

from bpfdtest import run

pytestmark = pytest.mark.no_root

VERBS = [
    (("load", "file"), ["--path", "--programs", "--map-owner-id", "-g", "-m"]),
    (("attach", "xdp"), ["--iface", "--priority", "--proceed-on"]),
    (("attach", "tcx"), ["--iface", "--direction", "--priority"]),
    (("attach", "tracepoint"), ["--tracepoint"]),
    (("attach", "kprobe"), ["--fn-name", "--offset"]),
    (("attach", "uprobe"), ["--target", "--fn-name", "--offset", "--pid"]),
    (("attach", "fentry"), []),
    (("attach", "fexit"), []),
    (("detach",), []),
    (("unload",), []),
    (("list",), ["--all", "--type", "-m"]),
    (("get",), []),
    (("link", "list"), ["--program"]),
    (("link", "get"), []),
]


@pytest.mark.parametrize("verb,options", VERBS, ids=[" ".join(v) for v, _ in VERBS])
def test_verb_help(build, verb, options):
    res = run([build.bpfctl, *verb, "--help"])
    text = res.stdout + res.stderr
    assert res.returncode == 0, f"bpfctl {' '.join(verb)} --help exited {res.returncode}: {text}"
    for opt in options:
        assert opt in text, f"bpfctl {' '.join(verb)} --help should list {opt}:\n{text}"


def test_top_level_help_lists_verbs_and_global_options(build):
    res = run([build.bpfctl, "--help"])
    text = res.stdout + res.stderr
    assert res.returncode == 0, text
    for word in ("load", "attach", "detach", "unload", "list", "get", "--socket", "--json"):
        assert word in text, f"bpfctl --help should mention {word}:\n{text}"
