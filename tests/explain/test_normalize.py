"""What a paste adds around a runtime's words is peeled off before any rule reads them.

Each case takes one runtime message and wraps it the way people paste errors (terminal colours, a
web page's entities, markdown quotes and ticks, non-breaking spaces, a terminal's hard wrap), and
checks that explain reads the same first cause as for the plain message.
"""

from __future__ import annotations

import pytest

from pulldoctor.explain import explain
from pulldoctor.explain.normalize import normalize

PLAIN = ('Error response from daemon: Get "https://registry.example.org/v2/": dial tcp '
         "203.0.113.9:443: i/o timeout")
DENIED = ("Error response from daemon: pull access denied for team/tool, repository does not exist or "
          "may require 'docker login': denied: requested access to the resource is denied")


def _wrap(text: str, width: int) -> str:
    return "\n".join(text[i:i + width] for i in range(0, len(text), width))


PASTES = [
    ("ansi", "\x1b[31mError\x1b[0m response from daemon: Get \"https://registry.example.org/v2/\": "
             "dial tcp 203.0.113.9:443: i/o timeout"),
    ("entities", PLAIN.replace('"', "&quot;")),
    ("quote", "> " + PLAIN),
    ("bold", "**" + PLAIN + "**"),
    ("ticks", "`" + PLAIN + "`"),
    ("nbsp", PLAIN.replace(" ", "\u00a0", 4)),
    ("hard wrap", _wrap(PLAIN + " " + PLAIN, 64)),
]


@pytest.mark.parametrize(("kind", "text"), PASTES, ids=[k for k, _ in PASTES])
def test_paste_artefacts_do_not_change_the_reading(kind: str, text: str) -> None:
    assert explain(text).causes[0].code == explain(PLAIN).causes[0].code == "net.tcp_timeout"


def test_a_quoted_reply_keeps_the_two_registry_answers_together() -> None:
    quoted = "\n".join("> " + line for line in (DENIED, "unauthorized: authentication required"))
    assert explain(quoted).causes[0].code == explain(DENIED).causes[0].code


def test_lines_of_equal_length_that_do_not_break_inside_a_word_are_not_joined() -> None:
    text = ("/usr/bin/docker pull quay.io/terraform-docs/gh-actions:1.4.1\n"
            '  Error response from daemon: Get "https://quay.io/v2/": EOF\n'
            "Error: Docker pull failed with exit code 1")
    assert normalize(text).count("\n") == 2


def test_a_hard_wrapped_url_is_whole_again() -> None:
    text = _wrap(PLAIN + " " + PLAIN, 64)
    assert "https://registry.example.org/v2/" in normalize(text)
