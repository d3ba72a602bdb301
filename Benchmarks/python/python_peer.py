#!/usr/bin/env python3
"""A straightforward Python recommend service, the peer `medley serve` is measured against.

One process: a pyzmq ROUTER speaking Medley's request protocol (protocol/README.md), the model
file read with safetensors (models/README.md), numpy (OpenBLAS) for the arithmetic. It answers
recommend requests by the same path as a Medley worker: the input built from the request's
context events (the user's vector when the model knows the user), the encoder and every head,
one list per domain, the session head's list over all items, the next-domain probabilities and
the blended list, with the context items excluded unless include_seen is set. Every request
waiting when the loop comes round (at most --max-batch) is answered as one batch: one matrix
product per layer, and per domain block one product of the items with the queries of every head
of every request, so the item table is read once per batch.

It keeps no sessions (ingest is refused with UNKNOWN_MESSAGE): load runs carry their sessions
as context events. Health requests are answered, so clients can wait for it to be ready.

Usage: python_peer.py --model MODEL.safetensors [--bind tcp://127.0.0.1:5565] [--max-batch 64]
Needs numpy, safetensors, pyzmq, protobuf and medley_pb2.py (protoc --python_out from
protocol/medley.proto) on PYTHONPATH; Benchmarks/compare-python.sh sets that up.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import zmq

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from reference_score import load, vocabularies  # noqa: E402  (the model file reader the reference scorer uses)

import medley_pb2 as pb  # noqa: E402

PROTOCOL_VERSION = 1


class Model:
    def __init__(self, path):
        meta, t = load(path)
        assert meta["architecture"] == "mlp", "the peer serves the mlp architecture only"
        self.version = int(meta["model_version"])
        self.domains = json.loads(meta["domains"])
        self.d = int(meta["embedding_dim"])
        self.slots = int(meta["last_item_slots"])
        self.context_dim = int(meta["context_dim"])
        self.weights = json.loads(meta["event_weights"])
        self.half_life = float(meta["recency_half_life_seconds"])
        self.item_ids, item_domains, user_ids = vocabularies(meta, t)
        item_domains = np.array(item_domains, dtype=np.int64)
        self.item_domains = item_domains
        self.users = {u: i for i, u in enumerate(user_ids)}
        self.row_of = {(self.domains[k], i): r for r, (i, k) in enumerate(zip(self.item_ids, item_domains.tolist()))}
        self.E = np.ascontiguousarray(t["item.embedding"], dtype=np.float32)
        self.bias = t["item.bias"].astype(np.float32)
        self.U = t["user.embedding"]
        hidden = json.loads(meta["hidden_dims"])
        tower = json.loads(meta["tower_hidden_dims"])
        # Domain rows are contiguous and in domain order (models/README.md).
        self.blocks = []
        for k in range(len(self.domains)):
            rows = np.nonzero(item_domains == k)[0]
            self.blocks.append((int(rows[0]), int(rows[-1]) + 1) if len(rows) else (0, 0))

        def layers(prefix, n):
            return [(t[f"{prefix}.layers.{l}.weight"].T.copy(), t[f"{prefix}.layers.{l}.bias"]) for l in range(n)]

        self.encoder = layers("encoder", len(hidden))
        tasks = [f"domain.{name}" for name in self.domains] + ["session", "next_domain"]
        self.heads = [layers(f"heads.{task}", len(tower) + 1) for task in tasks]

    def input_vector(self, request, now_ms):
        """x = [user; session; last-item slots; context] for one request, and its excluded rows."""
        d = self.d
        events = sorted(enumerate(request.context), key=lambda p: (p[1].timestamp_ms, p[0]))
        known = []
        for _, e in events:
            row = self.row_of.get((e.domain, e.item_id))
            type_name = pb.EventType.Name(e.type)[len("EVENT_TYPE_"):].lower()
            if row is not None and type_name in self.weights:
                known.append((e, row, self.weights[type_name]))
        tau = max((e.timestamp_ms for e in request.context), default=0)
        raw = [w * 0.5 ** (max(0, tau - e.timestamp_ms) / 1000.0 / self.half_life) for e, _, w in known]
        z = sum(abs(w) for w in raw)
        x = np.zeros(d * (2 + self.slots) + self.context_dim, np.float32)
        user = self.users.get(request.user_id)
        if user is not None:
            x[:d] = self.U[user]
        for (_, row, _), w in zip(known, raw):
            if z > 0:
                x[d:2 * d] += np.float32(w / z) * self.E[row]
        for slot, (_, row, _) in enumerate(reversed(known[-self.slots:] if self.slots else [])):
            x[d * (2 + slot):d * (3 + slot)] = self.E[row]
        if self.context_dim == 4:
            x[-4:] = context_features(now_ms)
        excluded = set() if request.include_seen else {row for _, row, _ in known}
        return x, excluded

    def recommend(self, requests, now_ms):
        """One batch: lists per request (rows and scores), probabilities."""
        encoded = [self.input_vector(r, now_ms) for r in requests]
        X = np.stack([x for x, _ in encoded])
        for W, b in self.encoder:
            X = np.maximum(X @ W + b, 0)
        outs = []
        for head in self.heads:
            h = X
            for i, (W, b) in enumerate(head):
                h = h @ W + b
                if i < len(head) - 1:
                    h = np.maximum(h, 0)
            outs.append(h)
        n_dom = len(self.domains)
        session_q = outs[n_dom]
        logits = outs[n_dom + 1].astype(np.float64)
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        B = len(requests)
        k = max(r.k or 10 for r in requests)
        domain_lists = [[None] * n_dom for _ in range(B)]
        session_candidates = [[] for _ in range(B)]
        for di, (lo, hi) in enumerate(self.blocks):
            if hi == lo:
                for b in range(B):
                    domain_lists[b][di] = []
                continue
            Q = np.concatenate([outs[di], session_q], axis=0)  # 2B × d: every head of every request
            S = self.E[lo:hi] @ Q.T + self.bias[lo:hi, None]  # one pass over the block
            for b, (_, excluded) in enumerate(encoded):
                for col, target in ((b, "domain"), (B + b, "session")):
                    scores = S[:, col].copy()
                    for row in excluded:
                        if lo <= row < hi:
                            scores[row - lo] = -np.inf
                    top = best(scores, k)
                    ranked = [(lo + int(j), float(scores[j])) for j in top if scores[j] != -np.inf]
                    if target == "domain":
                        domain_lists[b][di] = ranked
                    else:
                        session_candidates[b] += ranked
        results = []
        for b in range(B):
            session = sorted(session_candidates[b], key=lambda rs: (-rs[1], rs[0]))[:k]
            results.append((domain_lists[b], session, p[b]))
        return results


def best(scores, k):
    """Indices of the k best scores, best first, ties to the lower index."""
    if k < len(scores):
        part = np.argpartition(-scores, k - 1)[:k]
        threshold = scores[part].min()
        part = np.nonzero(scores >= threshold)[0]  # every tie at the boundary
    else:
        part = np.arange(len(scores))
    order = np.lexsort((part, -scores[part]))
    return part[order][:k]


def context_features(ms):
    day = 86_400_000
    ms_of_day = ms % day
    days = (ms - ms_of_day) // day
    hour = ms_of_day / 3_600_000
    week = (days % 7) + ms_of_day / day
    h, w = 2 * math.pi * hour / 24, 2 * math.pi * week / 7
    return np.array([math.sin(h), math.cos(h), math.sin(w), math.cos(w)], np.float32)


def blend(lists, probabilities, count):
    nxt = [0] * len(lists)
    out = []
    while len(out) < count:
        best_d, best_p = None, 0.0
        for di, lst in enumerate(lists):
            if nxt[di] < len(lst):
                pr = probabilities[di] / (nxt[di] + 1)
                if best_d is None or pr > best_p:
                    best_d, best_p = di, pr
        if best_d is None:
            break
        out.append(lists[best_d][nxt[best_d]])
        nxt[best_d] += 1
    return out


def error_reply(request_id, code, message):
    reply = pb.Reply(protocol_version=PROTOCOL_VERSION, request_id=request_id)
    reply.error.code = code
    reply.error.message = message
    return reply


def serve(model, bind, max_batch):
    context = zmq.Context()
    socket = context.socket(zmq.ROUTER)
    socket.setsockopt(zmq.LINGER, 0)
    socket.bind(bind)
    print(f"python peer serving {len(model.item_ids)} items on {bind}", flush=True)
    while True:
        socket.poll()
        batch = []
        while len(batch) < max_batch:
            try:
                frames = socket.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                break
            envelope, body = frames[:-1], frames[-1]
            try:
                request = pb.Request.FromString(body)
            except Exception as error:  # noqa: BLE001  (any parse failure is the client's)
                socket.send_multipart(envelope + [error_reply(0, pb.ERROR_CODE_MALFORMED_FRAME, str(error)).SerializeToString()])
                continue
            kind = request.WhichOneof("body")
            if request.protocol_version != PROTOCOL_VERSION:
                reply = error_reply(request.request_id, pb.ERROR_CODE_UNSUPPORTED_VERSION, "protocol version 1 only")
            elif kind == "recommend":
                batch.append((envelope, request))
                continue
            elif kind == "health":
                reply = pb.Reply(protocol_version=PROTOCOL_VERSION, request_id=request.request_id, model_version=model.version)
                reply.health.status = pb.SERVING_STATUS_SERVING
                reply.health.model_version = model.version
            else:
                reply = error_reply(request.request_id, pb.ERROR_CODE_UNKNOWN_MESSAGE, "this peer answers recommend and health only")
            socket.send_multipart(envelope + [reply.SerializeToString()])
        if not batch:
            continue
        now_ms = int(time.time() * 1000)
        results = model.recommend([r.recommend for _, r in batch], now_ms)
        for (envelope, request), (lists, session, p) in zip(batch, results):
            socket.send_multipart(envelope + [build_reply(model, request, lists, session, p).SerializeToString()])


def build_reply(model, request, lists, session, p):
    r = request.recommend
    k = r.k or 10
    reply = pb.Reply(protocol_version=PROTOCOL_VERSION, request_id=request.request_id, model_version=model.version)
    body = reply.recommend
    body.model_version = model.version

    def fill(target, ranked):
        for row, score in ranked[:k]:
            item = target.add(item_id=model.item_ids[row], domain=model.domains[model.item_domains[row]])
            if r.include_scores:
                item.score = score

    wanted = [model.domains.index(name) for name in r.domains] or range(len(model.domains))
    for di in wanted:
        ranking = body.domains.add(domain=model.domains[di])
        fill(ranking.items, lists[di])
    fill(body.session_next, session)
    for name, prob in zip(model.domains, p):
        body.next_domain_probability[name] = float(prob)
    fill(body.blended, blend([lst[:k] for lst in lists], p, k))
    return reply


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--bind", default="tcp://127.0.0.1:5565")
    parser.add_argument("--max-batch", type=int, default=64)
    args = parser.parse_args()
    serve(Model(args.model), args.bind, args.max_batch)


if __name__ == "__main__":
    main()
