#!/usr/bin/env python3
"""Seeds fuzz/corpus/<target>/ with the Java 4.3.0 vectors in tests/data/.

Request and response bodies go to the matching decoder's target, every
header to `headers`, every record batch to `record_batch` and the compressed
section of each compressed batch to `decompress_<codec>`. Run from the crate
root or from fuzz/.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "tests", "data")
API = {0: "produce", 3: "metadata", 18: "api_versions", 22: "init_producer_id"}

for file, kind in (("requests.jsonl", "request"), ("responses.jsonl", "response")):
    with open(os.path.join(DATA, file)) as lines:
        for line in lines:
            if line.startswith("#") or not line.strip():
                continue
            vector = json.loads(line)
            target = f"{API[vector['api_key']]}_{kind}"
            for name, hex_field in ((target, "body_hex"), ("headers", "header_hex")):
                folder = os.path.join(HERE, "corpus", name)
                os.makedirs(folder, exist_ok=True)
                with open(os.path.join(folder, vector["id"] + "-" + kind), "wb") as out:
                    out.write(bytes.fromhex(vector[hex_field]))

with open(os.path.join(DATA, "record_batches.jsonl")) as lines:
    for line in lines:
        if line.startswith("#") or not line.strip():
            continue
        vector = json.loads(line)
        batch = bytes.fromhex(vector["batch_hex"])
        seeds = [("record_batch", batch)]
        codec = vector["inputs"]["compression"]
        if codec != "none":
            seeds.append((f"decompress_{codec}", batch[61:]))
        for name, data in seeds:
            folder = os.path.join(HERE, "corpus", name)
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, vector["id"]), "wb") as out:
                out.write(data)
