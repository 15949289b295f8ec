"""The floor of this stack: a bare Flask app under the same gunicorn settings.

POST /floor   reads and parses the JSON body (json.loads), returns a fixed JSON body
              (what any hook endpoint must at least do: the DESIGN's "floor");
POST /fixed   reads the request body without parsing it, returns the fixed JSON body;
GET  /healthz liveness, for the benchmark's start-up wait.

Served by bench/run.py with `gunicorn -k gthread --threads 4 --timeout 60`, the
settings `mbc-cds serve` uses (service/cli.py).
"""

from __future__ import annotations

import json

from flask import Flask, jsonify, request

# About the size and shape of a one-card CDS Hooks answer.
FIXED = {
    "cards": [{
        "summary": "Floor: a fixed card",
        "indicator": "info",
        "source": {"label": "bench floor", "url": "https://example.org/floor",
                   "topic": {"system": "https://example.org/topic", "code": "floor", "display": "Floor"}},
        "uuid": "00000000-0000-4000-8000-000000000000",
        "detail": "x" * 800,
    }]
}

app = Flask(__name__)
app.json.sort_keys = False


@app.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@app.post("/floor")
def floor():
    body = json.loads(request.get_data(cache=False))
    if not isinstance(body, dict):
        return jsonify({"error": "not an object"}), 400
    return jsonify(FIXED)


@app.post("/fixed")
def fixed():
    request.get_data(cache=False)  # read (keep-alive needs it) but do not parse
    return jsonify(FIXED)
