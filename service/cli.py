"""`mbc-cds` command line: serve, cards, feedback-stats, load-demo."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path

BUNDLE_HELP = "a FHIR Bundle (transaction, collection or searchset) holding one patient"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mbc-cds", description="HR+/HER2- MBC CDS Hooks service")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the service (gunicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=int, default=None, help="default: MBC_CDS_WORKERS or 2")
    serve.add_argument("--dev", action="store_true", help="Flask's development server instead")
    serve.set_defaults(func=cmd_serve)

    show = commands.add_parser("cards", help="run the pipeline offline on a patient bundle")
    show.add_argument("bundle", type=Path, help=BUNDLE_HELP)
    show.add_argument("--hook", default="patient-view", choices=["patient-view", "order-select", "order-sign"])
    show.add_argument("--patient", help="patient id (default: the bundle's Patient)")
    show.add_argument("--orders", type=Path, help="draftOrders Bundle for the order hooks")
    show.add_argument("--json", action="store_true", help="print the CDS Hooks response JSON")
    show.set_defaults(func=cmd_cards)

    stats = commands.add_parser("feedback-stats", help="acceptance/override rates per card topic")
    stats.add_argument("--database-url", help="default: MBC_CDS_DATABASE_URL")
    stats.set_defaults(func=cmd_feedback_stats)

    load = commands.add_parser("load-demo", help="PUT the demo patients into a FHIR R4 server")
    load.add_argument("--fhir-server", required=True, metavar="URL", help="FHIR base URL, e.g. http://localhost:8081/fhir")
    load.add_argument("--token", help="bearer token for the FHIR server (needs write access)")
    load.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                      help="keep trying this long while the server starts (docker compose)")
    load.set_defaults(func=cmd_load_demo)

    args = parser.parse_args(argv)
    return args.func(args) or 0


def cmd_serve(args) -> int:
    from service.app import create_app
    from service.config import Settings

    settings = Settings()
    workers = args.workers or settings.workers
    if args.dev:
        from service.serve_logging import QuerylessRequestHandler

        # its access lines without the query string (service/serve_logging.py)
        create_app().run(host=args.host, port=args.port, request_handler=QuerylessRequestHandler)
        return 0
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{args.host}:{args.port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", settings.threads)
            self.cfg.set("reuse_port", settings.reuse_port)
            self.cfg.set("timeout", 60)
            self.cfg.set("accesslog", None)
            # the error log without what a caller sent in a request line it could not parse
            self.cfg.set("logger_class", "service.serve_logging.QuerylessGunicornLogger")

        def load(self):
            from service.app import production_app

            return production_app()

    print(f"mbc-cds listening on http://{args.host}:{args.port}/cds-services ({workers} workers)")
    Server().run()
    return 0


def cmd_cards(args) -> int:
    from service.errors import ServiceError
    from service.pipeline import run_hook

    try:
        bundle = json.loads(args.bundle.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"error: cannot read {args.bundle}: {exc}", file=sys.stderr)
        return 2
    resources = [e.get("resource") for e in bundle.get("entry", []) if isinstance(e, dict)]
    resources = [r for r in resources if isinstance(r, dict)]
    patient_id = args.patient or next(
        (r.get("id") for r in resources if r.get("resourceType") == "Patient"), None
    )
    if not patient_id:
        print("error: no Patient in the bundle; pass --patient", file=sys.stderr)
        return 2
    context = {"patientId": patient_id, "userId": "Practitioner/cli"}
    if args.hook != "patient-view":
        if not args.orders:
            print("error: --orders DRAFT_ORDERS_BUNDLE.json is needed for order hooks", file=sys.stderr)
            return 2
        context["draftOrders"] = json.loads(args.orders.read_text(encoding="utf-8"))
        context["selections"] = [
            f"{e['resource']['resourceType']}/{e['resource']['id']}"
            for e in context["draftOrders"].get("entry", [])
        ]
    try:
        cards = run_hook(args.hook, context, resources)
    except ServiceError as exc:  # e.g. data that cannot be fetched (412 over HTTP)
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"cards": [c.to_json() for c in cards]}, indent=2))
    else:
        print(render_cards(cards))
    return 0


def render_cards(cards) -> str:
    """Cards as a clinician would skim them in a terminal."""
    out = []
    for i, card in enumerate(cards, 1):
        out.append(f"[{i}] {card.indicator.upper():8} {card.summary}")
        out.append(f"    topic: {card.topic}   source: {card.source.label}")
        if card.detail:
            for line in card.detail.splitlines():
                out.extend(textwrap.wrap(line, 100, initial_indent="    ", subsequent_indent="      ") or [""])
        for s in card.suggestions:
            star = "*" if s.isRecommended else "-"
            out.append(f"    {star} suggestion: {s.label}")
        for link in card.links:
            out.append(f"    link: {link.label} <{link.url}>")
        out.append("")
    return "\n".join(out) if out else "(no cards)"


def cmd_feedback_stats(args) -> int:
    from service.config import Settings
    from service.feedback import FeedbackStore

    url = args.database_url or Settings().database_url
    rows = FeedbackStore(url).stats_by_topic()
    if not rows:
        print("no cards issued and no feedback recorded yet")
        return 0
    print(f"{'topic':40} {'issued':>7} {'accepted':>9} {'overridden':>11} {'accept%':>8} {'override%':>10}")
    for r in rows:
        acc = "-" if r["acceptance_rate"] is None else f"{100 * r['acceptance_rate']:.1f}"
        ovr = "-" if r["override_rate"] is None else f"{100 * r['override_rate']:.1f}"
        print(f"{r['topic']:40} {r['issued']:>7} {r['accepted']:>9} {r['overridden']:>11} {acc:>8} {ovr:>10}")
    return 0


def cmd_load_demo(args) -> int:
    from service.loader import LoadError, load_demo

    try:
        load_demo(args.fhir_server, args.token, wait=args.wait)
    except LoadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
