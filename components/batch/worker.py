"""One batch of the S3 drop: the Job that KEDA starts for each message on the model's SQS queue.

Receives one S3 event from the queue, downloads the tenant's input JSONL, runs vLLM's batch runner
(python3 -m vllm.entrypoints.openai.run_batch, vllm-project/vllm v0.10.1
vllm/entrypoints/openai/run_batch.py: -i/--input-file and -o/--output-file local paths, the engine
flags of the server) on this pod's GPUs, uploads the result under the same tenant's output prefix
(SSE-KMS with the batch key) and deletes the message. While the runner works the message stays
invisible (its visibility is extended every few minutes); if the pod is preempted (SIGTERM) the message
is released at once for the next Job; a batch that keeps failing gets an .error.json result and its
message is deleted on the last attempt.

Written here rather than taken from a library: no maintained project drives vLLM's batch runner from
S3 events; the logic is a receive, a subprocess and two object copies. boto3 ships in the
vllm/vllm-openai image (docker/Dockerfile at v0.10.1 installs it for the Run:ai model streamer).
"""

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

# The same rule as batchOutputKey in policies/model/hosted-tiers.ts (a test checks they agree).
INPUT_KEY = re.compile(r"^([a-z0-9-]+)/([a-z0-9-]+)/input/([A-Za-z0-9._=-][A-Za-z0-9._=/-]*\.jsonl)$")


def output_key(input_key):
    """The result's key for an input object's key, or None when the key is not a tenant's input."""
    m = INPUT_KEY.match(input_key)
    if not m or any(part in ("", ".", "..") for part in m.group(3).split("/")):
        return None
    return f"{m.group(1)}/{m.group(2)}/output/{m.group(3)}"


def batch_inputs(body, model, tenants):
    """The (tenant, input key, output key, batch id) of each object an S3 event names for this model and its tenants.

    The batch id is the object's event sequencer: one per upload, so a file uploaded again is a new batch."""
    found = []
    for record in json.loads(body).get("Records", []):
        obj = record.get("s3", {}).get("object", {})
        key = urllib.parse.unquote_plus(obj.get("key", ""))
        out = output_key(key)
        tenant, key_model = key.split("/")[:2] if out else (None, None)
        if out and key_model == model and tenant in tenants:
            found.append((tenant, key, out, obj.get("sequencer") or hashlib.sha256(key.encode()).hexdigest()[:16]))
        else:
            print(json.dumps({"event": "batch-skipped", "key": key, "reason": "not an input object of a granted tenant of this model"}), flush=True)
    return found


def usage(path):
    """Requests, failures and tokens of a run_batch output file (BatchRequestOutput lines)."""
    totals = {"requests": 0, "failed": 0, "input_tokens": 0, "output_tokens": 0}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            out = json.loads(line)
            totals["requests"] += 1
            body = (out.get("response") or {}).get("body") or {}
            if out.get("error") or not body:
                totals["failed"] += 1
            tokens = body.get("usage") or {}
            totals["input_tokens"] += int(tokens.get("prompt_tokens") or 0)
            totals["output_tokens"] += int(tokens.get("completion_tokens") or 0)
    return totals


def publish_usage(port, hold_seconds, tenant, model, batch, totals):
    """Serves the batch's exact usage (from its output file) as gauges for a few scrapes, then returns.

    Metering bills a batch once, from the window its series first appears in; a preempted run that
    did not complete publishes nothing, so only the run that completes is billed."""
    from prometheus_client import CollectorRegistry, Gauge, start_http_server

    registry = CollectorRegistry()
    tokens = Gauge("compute_region_batch_tokens", "Tokens of a completed batch", ["tenant", "model", "batch", "type"], registry=registry)
    requests = Gauge("compute_region_batch_requests", "Requests of a completed batch", ["tenant", "model", "batch", "outcome"], registry=registry)
    tokens.labels(tenant, model, batch, "input").set(totals["input_tokens"])
    tokens.labels(tenant, model, batch, "output").set(totals["output_tokens"])
    requests.labels(tenant, model, batch, "succeeded").set(totals["requests"] - totals["failed"])
    requests.labels(tenant, model, batch, "failed").set(totals["failed"])
    start_http_server(port, registry=registry)
    time.sleep(hold_seconds)


def main():
    import boto3  # in the serving image; imported here so the key rules above load anywhere

    env = os.environ
    queue, bucket, key_id, model = env["QUEUE_URL"], env["BUCKET"], env["KMS_KEY_ARN"], env["MODEL_NAME"]
    tenants = set(env["TENANTS"].split(","))
    max_receives = int(env.get("MAX_RECEIVES", "3"))
    sqs, s3 = boto3.client("sqs"), boto3.client("s3")
    got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1, WaitTimeSeconds=20, VisibilityTimeout=900, AttributeNames=["ApproximateReceiveCount"])
    messages = got.get("Messages", [])
    if not messages:
        print(json.dumps({"event": "batch-none", "model": model}), flush=True)
        return 0
    message = messages[0]
    handle = message["ReceiptHandle"]
    attempt = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
    done = threading.Event()

    def keep_invisible():
        while not done.wait(300):
            sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=handle, VisibilityTimeout=900)

    def release(signum, frame):
        # Preempted: hand the batch to the next Job now instead of in 15 minutes.
        done.set()
        sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=handle, VisibilityTimeout=0)
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, release)
    threading.Thread(target=keep_invisible, daemon=True).start()
    encryption = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": key_id}
    failed = False
    completed = []
    for tenant, key, out, batch in batch_inputs(message["Body"], model, tenants):
        s3.download_file(bucket, key, "/work/input.jsonl")
        runner = [
            "python3", "-m", "vllm.entrypoints.openai.run_batch",
            "--input-file", "/work/input.jsonl", "--output-file", "/work/output.jsonl",
            # The first name labels vLLM's metrics (batch/<model>: never counted as the shared server's
            # load, latency or tokens); requests may name either.
            "--model", env["WEIGHTS"], "--served-model-name", env["METRICS_MODEL_NAME"], model,
            "--tensor-parallel-size", env["TENSOR_PARALLEL_SIZE"], "--max-model-len", env["MAX_MODEL_LEN"],
            "--enable-metrics", "--port", env.get("METRICS_PORT", "8000"),
        ]
        result = subprocess.run(runner)
        if result.returncode == 0:
            s3.upload_file("/work/output.jsonl", bucket, out, ExtraArgs=encryption)
            totals = usage("/work/output.jsonl")
            completed.append((tenant, batch, totals))
            print(json.dumps({"event": "batch-done", "tenant": tenant, "model": model, "batch": batch, "input": key, "output": out, **totals}), flush=True)
        elif attempt >= max_receives:
            error = json.dumps({"input": key, "error": f"the batch runner exited with {result.returncode} on {attempt} attempts"})
            s3.put_object(Bucket=bucket, Key=out + ".error.json", Body=error.encode(), **encryption)
            print(json.dumps({"event": "batch-failed", "tenant": tenant, "model": model, "input": key, "attempts": attempt}), flush=True)
        else:
            failed = True
    done.set()
    if failed:
        # Try again soon, on another Job; the queue's redrive policy stops it after max_receives.
        sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=handle, VisibilityTimeout=60)
        return 1
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=handle)
    for tenant, batch, totals in completed:
        publish_usage(int(env.get("METRICS_PORT", "8000")), int(env.get("USAGE_HOLD_SECONDS", "60")), tenant, model, batch, totals)
    return 0


if __name__ == "__main__":
    # The rules above, for tests (one call answers them all): result keys of input keys, the usage of
    # an output file, and the batches an S3 event names for a model and its tenants.
    if len(sys.argv) == 3 and sys.argv[1] == "--publish":
        case = json.load(open(sys.argv[2], encoding="utf-8"))
        publish_usage(case["port"], case["holdSeconds"], case["tenant"], case["model"], case["batch"], case["totals"])
        sys.exit(0)
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        case = json.load(open(sys.argv[2], encoding="utf-8"))
        print(json.dumps({
            "outputKeys": [output_key(k) for k in case["keys"]],
            "usage": usage(case["outputFile"]),
            "inputs": batch_inputs(json.dumps(case["event"]), case["model"], set(case["tenants"])),
        }))
        sys.exit(0)
    sys.exit(main())
