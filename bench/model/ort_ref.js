// ONNX Runtime side of bench_model (called by model_ref.py):
//   node ort_ref.js ORT_DIR MODEL.onnx INPUT.f32 BATCH SAMPLES THREADS REPEATS LOGITS_OUT.f32
// ORT_DIR: a folder where `npm install --ignore-scripts onnxruntime-node` was run (its CPU library
// ships inside the package). Runs the model on the float32 input [BATCH, SAMPLES] with THREADS
// intra-op threads, prints 'seconds X' (median of REPEATS after one warm-up) and writes the
// logits (float32, row-major) to LOGITS_OUT.
"use strict";
const fs = require("fs");
const path = require("path");
const { createRequire } = require("module");

async function main() {
  const [ortDir, modelPath, inputPath, batch, samples, threads, repeats, outPath] = process.argv.slice(2);
  const ort = createRequire(path.join(path.resolve(ortDir), "package.json"))("onnxruntime-node");
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: Number(threads),
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
  });
  const bytes = fs.readFileSync(inputPath);
  const data = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", data, [Number(batch), Number(samples)]) };
  let out = await session.run(feeds);
  const times = [];
  for (let r = 0; r < Number(repeats); ++r) {
    const t0 = process.hrtime.bigint();
    out = await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  times.sort((a, b) => a - b);
  const logits = out[session.outputNames[0]].data;
  fs.writeFileSync(outPath, Buffer.from(logits.buffer, logits.byteOffset, logits.byteLength));
  console.log(`seconds ${times[Math.floor(times.length / 2)]} version ${ort.env.versions.common}`);
}

main().catch((e) => {
  console.error(`ort_ref.js: ${e.message}`);
  process.exit(1);
});
