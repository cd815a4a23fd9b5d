"""`kbchat ask`: one question, streamed."""

from __future__ import annotations

from kbchat.commands.common import (
    JSON,
    APIKey,
    BaseURL,
    Debug,
    FilterOpt,
    NoColor,
    NoMarkdown,
    NoStream,
    Output,
    Plain,
    Profile,
    Question,
    Retries,
    Rich,
    Sources,
    Tenant,
    Timeout,
    Verbose,
    choose_mode,
    ready_settings,
    reported,
)
from kbchat.question import build_question, read_stdin


def ask(
    question: Question = None,
    base_url: BaseURL = None,
    api_key: APIKey = None,
    tenant: Tenant = None,
    filter: FilterOpt = None,
    profile: Profile = None,
    timeout: Timeout = None,
    retries: Retries = None,
    rich: Rich = False,
    plain: Plain = False,
    json: JSON = False,
    output: Output = None,
    no_markdown: NoMarkdown = False,
    no_color: NoColor = False,
    no_stream: NoStream = False,
    sources: Sources = False,
    verbose: Verbose = False,
    debug: Debug = False,
) -> None:
    """Ask one question; the answer streams in as it is written.

    Words are joined with spaces; with stdin piped in, its text follows the words
    after a blank line. Exit codes: 0 answered, 1 failed, 2 usage, 130 cancelled.
    """
    from kbchat.render import Mode, Terminal

    term = Terminal.from_std(no_color=no_color)
    with reported(debug):
        mode = Mode(choose_mode(rich=rich, plain=plain, json=json))
        text = build_question(question or [], read_stdin(question or []))
        settings = ready_settings(term.err, base_url, api_key, tenant, filter, profile, timeout, retries)
        from kbchat.ask import run_ask

        run_ask(text, settings, term, mode, output=output, verbose=verbose, markdown=not no_markdown,
                no_stream=no_stream, sources=sources)  # fmt: skip
