#!/usr/bin/env python3
"""Independent reference scorer for Medley model files, written from models/README.md alone.

Usage: reference_score.py MODEL.safetensors REQUEST.json

REQUEST.json:
  {"user_id": "alice" or null,
   "events": [{"domain": "news", "id": "n2", "type": "click", "timestamp_ms": 1000000,
               "weight": 2.5 (optional: overrides the type's weight)}, ...],
   "history": [{"domain": "news", "id": "n1"}, ...] (oldest first),
   "context": [0.5, -0.25],
   "request_time_ms": null or an integer,
   "exclude_session_items": true,
   "k": 10}

Prints JSON: {"domains": {name: [[id, score], ...]}, "session": [[domain, id, score], ...],
              "next_domain_probabilities": [...], "blended": [[domain, id], ...]}
Needs numpy and safetensors (pip install numpy safetensors).
"""
import json
import sys

import numpy as np
from safetensors.numpy import load_file
from safetensors import safe_open


def load(path):
    with safe_open(path, framework="numpy") as f:
        meta = f.metadata()
    tensors = load_file(path)
    assert meta["format"] == "medley-model" and meta["format_version"] in ("1", "2")
    return meta, tensors


def packed_ids(t, vocabulary):
    """A vocabulary's ids from its UTF-8 bytes and n + 1 offsets (format version 2)."""
    data = t[f"{vocabulary}.id_bytes"].tobytes()
    offsets = t[f"{vocabulary}.id_offsets"].tolist()
    return [data[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(len(offsets) - 1)]


def vocabularies(meta, t):
    """(item ids, item domain indices, user ids) by row: JSON in the metadata in format
    version 1, tensors in version 2 (models/README.md, "Vocabularies")."""
    if meta["format_version"] == "1":
        return json.loads(meta["item_ids"]), json.loads(meta["item_domains"]), json.loads(meta["user_ids"])
    return packed_ids(t, "item"), t["item.domain"].tolist(), packed_ids(t, "user")


def mlp(tensors, prefix, x, n_layers, activate_last):
    for l in range(n_layers):
        w = tensors[f"{prefix}.layers.{l}.weight"]
        b = tensors[f"{prefix}.layers.{l}.bias"]
        x = (w @ x + b).astype(np.float32)
        if l < n_layers - 1 or activate_last:
            x = np.maximum(x, 0).astype(np.float32)
    return x


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def layer_norm(x, scale, shift):
    mean = x.mean(axis=1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=1, keepdims=True)
    return ((x - mean) / np.sqrt(var + 1e-6) * scale + shift).astype(np.float32)


def session_attention(t, meta, E, rows, d):
    """The session attention's output after the last of `rows` (models/README.md, "Session attention")."""
    if not rows:
        return np.zeros(d, np.float32)
    p = "session_encoder"
    heads = int(meta["attention_heads"])
    width = d // heads
    m = len(rows)
    h = (E[rows] + t[f"{p}.position.embedding"][:m]).astype(np.float32)
    mask = np.tril(np.ones((m, m), dtype=bool))

    def linear(name, x):
        return (x @ t[f"{name}.weight"].T + t[f"{name}.bias"]).astype(np.float32)

    for b in range(int(meta["attention_blocks"])):
        block = f"{p}.blocks.{b}"
        a = layer_norm(h, t[f"{block}.attention_norm.scale"], t[f"{block}.attention_norm.shift"])
        q, k, v = linear(f"{block}.query", a), linear(f"{block}.key", a), linear(f"{block}.value", a)
        attended = np.zeros((m, d), np.float32)
        for hd in range(heads):
            cols = slice(hd * width, (hd + 1) * width)
            s = (q[:, cols] @ k[:, cols].T) / np.sqrt(width)
            s = np.where(mask, s, -np.inf)
            e = np.exp(s - s.max(axis=1, keepdims=True))
            attended[:, cols] = (e / e.sum(axis=1, keepdims=True)) @ v[:, cols]
        h = h + linear(f"{block}.output", attended)
        c = layer_norm(h, t[f"{block}.feed_forward_norm.scale"], t[f"{block}.feed_forward_norm.shift"])
        inner = np.maximum(linear(f"{block}.feed_forward.layers.0", c), 0)
        h = h + linear(f"{block}.feed_forward.layers.1", inner)
    y = layer_norm(h, t[f"{p}.final_norm.scale"], t[f"{p}.final_norm.shift"])
    return y[-1]


def session_gru(t, E, rows, d):
    """The GRU's state after the last of `rows` (models/README.md, "Session GRU")."""
    p = "session_encoder.gru"
    h = np.zeros(d, np.float32)
    if not rows:
        return h
    projected = (E[rows] @ t[f"{p}.input.weight"].T + t[f"{p}.input.bias"]).astype(np.float32)
    w, b = t[f"{p}.hidden.weight"], t[f"{p}.hidden.bias"]
    for i in projected:
        g = (w @ h + b).astype(np.float32)
        r = 1 / (1 + np.exp(-(i[:d] + g[:d])))
        z = 1 / (1 + np.exp(-(i[d:2 * d] + g[d:2 * d])))
        n = np.tanh(i[2 * d:] + r * g[2 * d:])
        h = ((1 - z) * n + z * h).astype(np.float32)
    return h


def main():
    meta, t = load(sys.argv[1])
    with open(sys.argv[2]) as f:
        req = json.load(f)
    domains = json.loads(meta["domains"])
    d = int(meta["embedding_dim"])
    slots = int(meta["last_item_slots"])
    hidden = json.loads(meta["hidden_dims"])
    tower = json.loads(meta["tower_hidden_dims"])
    weights = json.loads(meta["event_weights"])
    half_life = float(meta["recency_half_life_seconds"])
    item_ids, item_domains, user_ids = vocabularies(meta, t)
    row_of = {(domains[k], i): r for r, (i, k) in enumerate(zip(item_ids, item_domains))}
    E = t["item.embedding"]
    bias = t["item.bias"]

    # Input encoding.
    events = sorted(enumerate(req["events"]), key=lambda p: (p[1]["timestamp_ms"], p[0]))
    known = [(e, row_of[(e["domain"], e["id"])]) for _, e in events if (e["domain"], e["id"]) in row_of]
    all_times = [e["timestamp_ms"] for e in req["events"]]
    tau = req.get("request_time_ms")
    if tau is None:
        tau = max(all_times) if all_times else 0
    raw = [e.get("weight", weights[e["type"]]) * 0.5 ** (max(0, tau - e["timestamp_ms"]) / 1000.0 / half_life) for e, _ in known]
    z = sum(abs(w) for w in raw)
    w = [np.float32(x / z) if z > 0 else np.float32(0) for x in raw]

    uid = req.get("user_id")
    hist = [row_of[(h["domain"], h["id"])] for h in req.get("history", []) if (h["domain"], h["id"]) in row_of]
    if uid is not None and uid in user_ids:
        u = t["user.embedding"][user_ids.index(uid)]
    else:
        u = E[hist].mean(axis=0) if hist else np.zeros(d, np.float32)
    s = np.zeros(d, np.float32)
    for (e, r), wi in zip(known, w):
        s += wi * E[r]
    slot_vecs = []
    newest_first = [r for _, r in reversed(known)]
    for k in range(slots):
        slot_vecs.append(E[newest_first[k]] if k < len(newest_first) else np.zeros(d, np.float32))
    parts = [u, s] + slot_vecs + [np.array(req["context"], np.float32)]
    encoder = meta.get("session_encoder", "none")
    if encoder in ("attention", "gru"):
        n = int(meta["sequence_length"])
        sequence = [r for _, r in known]
        # attention_input: absent (older files) or "session" reads the session only.
        if meta.get("attention_input", "session") == "history":
            sequence = hist + sequence
        if encoder == "attention":
            a = session_attention(t, meta, E, sequence[-n:], d)
        else:
            a = session_gru(t, E, sequence[-n:], d)
        parts.append(a)
    x = np.concatenate(parts).astype(np.float32)

    # Forward pass.
    tasks = [f"domain.{name}" for name in domains] + ["session", "next_domain"]
    if meta["architecture"] == "mlp":
        r = mlp(t, "encoder", x, len(hidden), True)
        reps = {task: r for task in tasks}
    elif meta["architecture"] == "ple":
        # Progressive Layered Extraction: per level, each task's gate mixes its own experts
        # then the shared ones; below the top, the shared gate mixes every expert.
        n_shared, n_own, levels = (int(meta[k]) for k in ("shared_experts", "task_experts", "levels"))
        task_in = {task: x for task in tasks}
        shared_in = x
        for l in range(levels):
            pre = f"encoder.levels.{l}"
            shared = [mlp(t, f"{pre}.shared.{e}", shared_in, len(hidden), True) for e in range(n_shared)]
            own = {task: [mlp(t, f"{pre}.tasks.{task}.{e}", task_in[task], len(hidden), True) for e in range(n_own)]
                   for task in tasks}
            nxt = {}
            for task in tasks:
                g = softmax(t[f"{pre}.gates.{task}.weight"] @ task_in[task] + t[f"{pre}.gates.{task}.bias"])
                nxt[task] = sum(gk * h for gk, h in zip(g, own[task] + shared))
            if l < levels - 1:
                g = softmax(t[f"{pre}.gates.shared.weight"] @ shared_in + t[f"{pre}.gates.shared.bias"])
                everything = [h for task in tasks for h in own[task]] + shared
                shared_in = sum(gk * h for gk, h in zip(g, everything))
            task_in = nxt
        reps = task_in
    else:
        experts = [mlp(t, f"encoder.experts.{e}", x, len(hidden), True) for e in range(int(meta["experts"]))]
        reps = {}
        for task in tasks:
            g = softmax(t[f"encoder.gates.{task}.weight"] @ x + t[f"encoder.gates.{task}.bias"])
            reps[task] = sum(g[e] * experts[e] for e in range(len(experts)))
    out = {task: mlp(t, f"heads.{task}", reps[task], len(tower) + 1, False) for task in tasks}
    # session_query: absent (older files) or "tower" is the tower's output alone.
    if encoder != "none" and meta.get("session_query", "tower") == "tower_plus_attention":
        out["session"] = (out["session"] + a).astype(np.float32)
    p = softmax(out["next_domain"].astype(np.float64))

    # Scores and lists.
    excluded = {r for _, r in known} if req.get("exclude_session_items", True) else set()
    k = req["k"]

    def top(query, rows, boost=None, lift=None):
        scores = E[rows] @ query + bias[rows]
        if boost is not None:
            scores = scores + boost[rows]
        if lift is not None:
            scores = scores + lift[rows]
        ranked = sorted((r for r in rows if r not in excluded), key=lambda r: (-scores[rows.index(r)], r))
        return [(r, float(scores[rows.index(r)])) for r in ranked[:k]]

    # Sequential rules (models/README.md, "Sequential rules"): the rules from the anchor items
    # add weight x boost to the session head's scores of their targets, boost being the sum
    # over the anchors, newest first, of strength / k for the k-th (k = 1, 2, ...). The anchors
    # are the newest session_rules_depth (absent: 1) known session items, newest first; with
    # session_rules_anchor = newest_item (absent: session), the newest known history items
    # follow them until there are session_rules_depth.
    boost = None
    anchor_kind = meta.get("session_rules_anchor", "session")
    assert anchor_kind in ("session", "newest_item")
    depth = int(meta.get("session_rules_depth", "1"))
    assert 1 <= depth <= 10
    anchors = newest_first[:depth]
    if anchor_kind == "newest_item":
        anchors = anchors + list(reversed(hist))[:depth - len(anchors)]
    if "session_rules_weight" in meta and anchors:
        rw = np.float32(float(meta["session_rules_weight"]))
        boost = np.zeros(len(item_ids), np.float32)
        for rank, anchor in enumerate(anchors, start=1):
            start, end = t["session_rules.row_start"][anchor], t["session_rules.row_start"][anchor + 1]
            targets = t["session_rules.targets"][start:end]
            boost[targets] = boost[targets] + (t["session_rules.strengths"][start:end] / np.float32(rank)).astype(np.float32)
        boost = (rw * boost).astype(np.float32)
    # The repeat bias (session_rules_repeat_bias, absent: 0) is added, after the rules, to the
    # session scores of the items the input holds: its known session items and its newest 10
    # known history items.
    lift = None
    repeat_bias = np.float32(float(meta.get("session_rules_repeat_bias", "0")))
    if "session_rules_weight" in meta and repeat_bias != 0:
        lift = np.zeros(len(item_ids), np.float32)
        lift[sorted({r for _, r in known} | set(list(reversed(hist))[:10]))] = repeat_bias
    # Domain lists (models/README.md, "Scores and lists"): with domain_lists_session_share
    # (absent: 0) = s, domain t's list scores its items with the query (1 - s) q_t + s q_session
    # and adds s x the session blend's change (the rules' weight x boost, plus the repeat bias).
    share = np.float32(float(meta.get("domain_lists_session_share", "0")))
    assert 0 <= share <= 1
    change = np.zeros(len(item_ids), np.float32)
    if boost is not None:
        change = (change + boost).astype(np.float32)
    if lift is not None:
        change = (change + lift).astype(np.float32)
    per_domain = {}
    lists = []
    for di, name in enumerate(domains):
        rows = [r for r in range(len(item_ids)) if item_domains[r] == di]
        if share != 0:
            query = ((np.float32(1) - share) * out[f"domain.{name}"] + share * out["session"]).astype(np.float32)
            lst = top(query, rows, (share * change).astype(np.float32))
        else:
            lst = top(out[f"domain.{name}"], rows)
        lists.append(lst)
        per_domain[name] = [[item_ids[r], s] for r, s in lst]
    session = top(out["session"], list(range(len(item_ids))), boost, lift)
    nxt = [0] * len(domains)
    blended = []
    while len(blended) < k:
        best, best_p = None, 0.0
        for di in range(len(domains)):
            if nxt[di] < len(lists[di]):
                pr = p[di] / (nxt[di] + 1)
                if best is None or pr > best_p:
                    best, best_p = di, pr
        if best is None:
            break
        blended.append([domains[best], item_ids[lists[best][nxt[best]][0]]])
        nxt[best] += 1
    print(json.dumps({
        "domains": per_domain,
        "session": [[domains[item_domains[r]], item_ids[r], s] for r, s in session],
        "next_domain_probabilities": [float(v) for v in p],
        "blended": blended,
    }))


if __name__ == "__main__":
    main()
