"""`kbchat serve` and `kbchat demo`: the local knowledge base, and a no-setup tour of it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from kbchat.commands.options import (
    JSON,
    Code,
    Debug,
    Follow,
    FollowID,
    NoColor,
    NoLog,
    NoMarkdown,
    NoStream,
    Output,
    Plain,
    Question,
    Rich,
    Sources,
    Verbose,
)

DEMO_TENANT = "demo"
DEMO_LOGGED = "kbchat demo"  # the answer log's name for the demo, whose server has a new port each run


def serve(
    docs: Annotated[
        Path | None,
        typer.Option(
            "--docs", metavar="DIR", help="folder of .md/.txt files; subfolders are tenants [default: the sample]"
        ),
    ] = None,
    host: Annotated[
        str, typer.Option("--host", metavar="HOST", help="address to bind; non-loopback needs --api-key")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", metavar="PORT", help="port; 0 picks a free one")] = 8765,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key",
            metavar="KEY",
            help="require this x-api-key",
            envvar="KBCHAT_SERVE_API_KEY",
        ),
    ] = None,
    pace: Annotated[
        float, typer.Option("--pace", metavar="SECONDS", help="pause between streamed pieces; 0 = no pause")
    ] = 0.02,
    cache_dir: Annotated[
        Path | None, typer.Option("--cache-dir", metavar="DIR", help="where the index is kept")
    ] = None,
    follow_symlinks: Annotated[
        bool,
        typer.Option("--follow-symlinks", help="also serve links to files outside their tenant's folder"),
    ] = False,
    max_connections: Annotated[
        int, typer.Option("--max-connections", metavar="N", help="open connections at most; more get 503")
    ] = 256,
    debug: Debug = False,
) -> None:
    """A local knowledge base: your documents over the same API.

    Binds 127.0.0.1 unless --host says otherwise (then --api-key is required).

    Extractive answers from a SQLite full-text index (BM25); no model is involved.
    Files at the top of DIR belong to tenant `demo`; each subfolder is a tenant.
    Stops cleanly on Ctrl-C or SIGTERM.
    """
    import signal

    from kbchat.commands.reporting import reported
    from kbchat.server.run import SAMPLE_DOCS, start_server, stop

    with reported(debug):
        server = start_server(docs or SAMPLE_DOCS, host, port, api_key, pace, cache_dir, log=sys.stderr,
                              follow_symlinks=follow_symlinks, max_connections=max_connections)  # fmt: skip
        signal.signal(signal.SIGTERM, _stop_on_sigterm)
        stats = server.index.stats()
        tenants = ", ".join(stats["tenants"]) or "none yet"
        print(f"kbchat serve: {stats['documents']} documents, {stats['passages']} passages from {server.index.docs}; "
              f"tenants: {tenants}; key {'required' if api_key else 'not required'}", file=sys.stderr)  # fmt: skip
        print(f"listening on {server.url}", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            server.in_flight.settle()  # their access-log lines before the last line
            print("kbchat serve: stopped", file=sys.stderr)
        finally:
            stop(server)


def _stop_on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM (docker stop, systemd) stops the server as Ctrl-C does."""
    raise KeyboardInterrupt


def demo(
    question: Question = None,
    rich: Rich = False,
    plain: Plain = False,
    json: JSON = False,
    output: Output = None,
    no_markdown: NoMarkdown = False,
    no_color: NoColor = False,
    no_stream: NoStream = False,
    sources: Sources = False,
    code: Code = False,
    follow: Follow = False,
    cid: FollowID = None,
    no_log: NoLog = False,
    verbose: Verbose = False,
    debug: Debug = False,
) -> None:
    """Try kbchat on a bundled sample: no key, no setup, no network.

    Starts the local server on a free loopback port over the sample documents of a
    fictional company, then answers QUESTION, or opens the chat (with stdin piped,
    one question per line). Answers are typed at a readable pace on a terminal, and
    written at once into a pipe or a file.
    """
    from kbchat.commands.reporting import reported
    from kbchat.errors import UsageError
    from kbchat.render import choose_mode
    from kbchat.server.app import DEFAULT_PACE
    from kbchat.server.run import SAMPLE_DOCS, SAMPLE_QUESTIONS, serve_in_background, start_server, stop
    from kbchat.settings import Settings, env_log
    from kbchat.terminal import Terminal

    term = Terminal.from_std(no_color=no_color)
    exit_code = 0
    with reported(debug):
        mode = choose_mode(rich=rich, plain=plain, json=json, code=code)
        one_answer = {"--rich": rich, "--plain": plain, "--json": json, "--output": output, "--no-stream": no_stream,
                      "--sources": sources, "--code": code, "--continue": follow, "--cid": cid}  # fmt: skip
        given = [name for name, value in one_answer.items() if value]
        if given and not question:
            shape = "shape" if len(given) > 1 else "shapes"
            raise UsageError(f'{", ".join(given)} {shape} one answer: give a QUESTION, e.g. kbchat demo {given[0]} "…"')
        if question:  # a bad question or flag is said before the server starts
            from kbchat.commands.asking import followed
            from kbchat.question import build_question, read_stdin

            follows = followed(follow, cid)
            text = build_question(question, read_stdin(question, term), "demo")
        import secrets

        key = secrets.token_urlsafe(24)
        # Typed at a readable pace for a person watching; at once into a pipe or a file.
        server = start_server(SAMPLE_DOCS, port=0, api_key=key, log=None, pace=DEFAULT_PACE if term.is_tty else 0.0)
        serve_in_background(server)
        try:
            import os

            logged = not no_log and env_log(os.environ) is not False  # the demo reads no config file
            settings = Settings(base_url=server.url, api_key=key, tenant=DEMO_TENANT, log=logged, logged_as=DEMO_LOGGED)
            settings.keep_secrets()
            count = server.index.stats()["documents"]
            print(f"kbchat demo: {count} sample documents of a fictional company, served locally; "
                  "answers quote them (no AI model)", file=sys.stderr)  # fmt: skip
            if not question:
                from kbchat.commands.asking import chat

                if term.stdin_is_tty:
                    print("Try: " + "\n     ".join(SAMPLE_QUESTIONS), file=sys.stderr)
                exit_code = chat(settings, term, verbose=verbose, markdown=not no_markdown)
            else:
                from kbchat.commands.asking import answer_one

                answer_one(text, settings, term, mode, output=output, verbose=verbose, markdown=not no_markdown,
                           no_stream=no_stream, sources=sources, follows=follows)  # fmt: skip
        finally:
            stop(server)
    raise typer.Exit(exit_code)
