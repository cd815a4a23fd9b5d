"""`kbchat serve` and `kbchat demo`: the local knowledge base, and a no-setup tour of it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import typer

from kbchat.ask_options import AskOptions, CommonOptions
from kbchat.commands.options import QuestionWords, with_options
from kbchat.errors import ExitCode
from kbchat.server.serve_options import DEFAULT_PACE, ServeOptions
from kbchat.settings import ConnectionOptions, Settings
from kbchat.terminal import Terminal

DEMO_TENANT = "demo"
DEMO_LOGGED = "kbchat demo"  # the answer log's name for the demo, whose server has a new port each run


@with_options("serve")
def serve(*, term: Terminal, serving: ServeOptions, common: CommonOptions) -> None:
    """A local knowledge base: your documents over the same API.

    Binds 127.0.0.1 unless --host says otherwise (then --api-key is required).

    Extractive answers from a SQLite full-text index (BM25); no model is involved.
    Files at the top of DIR belong to tenant `demo`; each subfolder is a tenant.
    Stops cleanly on Ctrl-C or SIGTERM.
    """
    import signal

    from kbchat.commands.reporting import reported
    from kbchat.server.run import start_server, stop

    with reported(term, common.debug):
        server = start_server(serving, log=term.err)
        signal.signal(signal.SIGTERM, _stop_on_sigterm)
        stats = server.index.stats()
        tenants = ", ".join(stats["tenants"]) or "none yet"
        term.say(
            f"kbchat serve: {stats['documents']} documents, {stats['passages']} passages from "
            f"{server.index.docs}; tenants: {tenants}; key {'required' if serving.api_key else 'not required'}"
        )
        print(f"listening on {server.url}", file=term.out, flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            server.in_flight.settle()  # their access-log lines before the last line
            term.say("kbchat serve: stopped")
        finally:
            stop(server)


def _stop_on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM (docker stop, systemd) stops the server as Ctrl-C does."""
    raise KeyboardInterrupt


@with_options("demo")
def demo(question: QuestionWords = None, *, term: Terminal, connection: ConnectionOptions, options: AskOptions,
         common: CommonOptions) -> None:  # fmt: skip
    """Try kbchat on a bundled sample: no key, no setup, no network.

    Starts the local server on a free loopback port over the sample documents of a
    fictional company, then answers QUESTION, or opens the chat (with stdin piped,
    one question per line). Answers are typed at a readable pace on a terminal, and
    written at once into a pipe or a file.
    """
    from kbchat.commands.asking import answer_one, chat
    from kbchat.commands.reporting import reported

    term = term.without_color() if common.no_color else term
    exit_code: int = ExitCode.OK
    with reported(term, common.debug):
        options.check()
        text = demo_question(question, options, term)  # a bad question or flag is said before the server starts
        with demo_settings(term, connection) as settings:
            if text is not None:
                answer_one(term, settings, text, options, common.verbose)
            else:
                from kbchat.server.run import SAMPLE_QUESTIONS

                if term.stdin_is_tty:
                    term.say("Try: " + "\n     ".join(SAMPLE_QUESTIONS))
                exit_code = chat(term, settings, options, common.verbose)
    raise typer.Exit(exit_code)


def demo_question(words: list[str] | None, options: AskOptions, term: Terminal) -> str | None:
    """The demo's one question, or None for the chat; options that shape one answer need one."""
    from kbchat.errors import UsageError

    if not words:
        given = options.one_answer_flags()
        if given:
            shape = "shape" if len(given) > 1 else "shapes"
            raise UsageError(f'{", ".join(given)} {shape} one answer: give a QUESTION, e.g. kbchat demo {given[0]} "…"')
        return None
    from kbchat.question import build_question, read_stdin

    return build_question(words, read_stdin(words, term), "demo")


@contextlib.contextmanager
def demo_settings(term: Terminal, connection: ConnectionOptions) -> Iterator[Settings]:
    """The sample served on a free loopback port for as long as this lasts, and settings that ask it."""
    import os
    import secrets

    from kbchat.server.run import serve_in_background, start_server, stop
    from kbchat.settings import Settings, env_log, to_switch

    key = secrets.token_urlsafe(24)
    # Typed at a readable pace for a person watching; at once into a pipe or a file.
    server = start_server(ServeOptions(port=0, api_key=key, pace=DEFAULT_PACE if term.is_tty else 0.0))
    serve_in_background(server)
    try:
        logged = connection.log is not False and env_log(os.environ) is not False  # the demo reads no config file
        count = server.index.stats()["documents"]
        term.say(f"kbchat demo: {count} sample documents, served here; answers quote them (no AI model)")
        accessible = to_switch(os.environ.get("KBCHAT_ACCESSIBLE") or False, "env KBCHAT_ACCESSIBLE")
        yield Settings(base_url=server.url, api_key=key, tenant=DEMO_TENANT, log=logged, logged_as=DEMO_LOGGED,
                       accessible=accessible)  # fmt: skip
    finally:
        stop(server)
