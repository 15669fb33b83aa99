"""The baseline for benchmarks/load.py: the smallest Flask app that does what a request to
bonemets does at the HTTP level, and nothing else.

    GET  /      -> "Hello"
    POST /echo  -> small JSON (reads the JSON or form body, as the real routes do)

Run by load.py as:  gunicorn -w 2 -b 127.0.0.1:PORT hello:app   (from this folder)
"""
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello"


@app.post("/echo")
def echo():
    data = request.get_json(silent=True) if request.is_json else request.form
    return jsonify(ok=True, fields=len(data or {}))
