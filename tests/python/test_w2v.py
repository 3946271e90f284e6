#!/usr/bin/env python3
"""The Python module `w2v` with Debian's /usr/bin/python3 (ctest python_w2v).

  test_w2v.py FIXTURE_DIR     (model.pt, speech.wav, long.wav written by serve_fixture)

Checks that float32 and int16 input give the same dict as transcribing the file, shaped like the
server's verbose_json; that wrong dtypes and shapes raise ValueError and a bad model w2v.Error;
that the GIL is released while the model runs (a Python thread keeps counting); that threads
sharing one Recognizer get the same text; that precision= and hotwords= decode as the CLI flags do;
and that align/align_file give what `w2v align` gives
($W2V_BINARY, set by ctest).
"""
import json
import os
import subprocess
import sys
import threading
import time
import unittest
import wave

import numpy as np

import w2v

FIXTURE = sys.argv.pop(1) if len(sys.argv) > 1 else os.environ.get("W2V_SERVE_FIXTURE", "")


def read_wav(path):
    with wave.open(path) as f:
        assert f.getsampwidth() == 2 and f.getnchannels() == 1
        return np.frombuffer(f.readframes(f.getnframes()), dtype="<i2").copy(), f.getframerate()


class RecognizerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.r = w2v.Recognizer(os.path.join(FIXTURE, "model.pt"))
        cls.speech, cls.rate = read_wav(os.path.join(FIXTURE, "speech.wav"))
        cls.long, _ = read_wav(os.path.join(FIXTURE, "long.wav"))

    def test_float_int16_and_file_agree(self):
        from_file = self.r.transcribe_file(os.path.join(FIXTURE, "speech.wav"))
        # The fixture's tiny random model hears one long word in speech.wav: enough to compare.
        self.assertTrue(from_file["text"] and from_file["words"], from_file)
        as_int16 = self.r.transcribe(self.speech, self.rate)
        as_float = self.r.transcribe(self.speech.astype(np.float32) / 32768, self.rate)
        self.assertEqual(as_int16, from_file)
        self.assertEqual(as_float, from_file)
        # A strided view is read as the values it shows.
        doubled = np.repeat(self.speech, 2)[::2]
        self.assertEqual(self.r.transcribe(doubled, self.rate)["text"], from_file["text"])

    def test_shape_of_verbose_json(self):
        d = self.r.transcribe(self.speech, self.rate)
        for key in ("task", "language", "duration", "text", "segments", "words", "usage"):
            self.assertIn(key, d)
        self.assertAlmostEqual(d["duration"], len(self.speech) / self.rate, places=3)
        self.assertEqual(" ".join(w["word"] for w in d["words"]), d["text"])
        self.assertEqual(" ".join(s["text"] for s in d["segments"]), d["text"])
        for w in d["words"]:
            self.assertLessEqual(w["start"], w["end"])
            self.assertTrue(0 < w["confidence"] <= 1)
        self.assertEqual(sorted(d["segments"][0]),
                         sorted(["id", "seek", "start", "end", "text", "tokens", "temperature", "avg_logprob",
                                 "compression_ratio", "no_speech_prob"]))
        self.assertIn("|", self.r.symbols)

    def test_bad_input_raises_value_error(self):
        for bad, why in [(self.speech.astype(np.float64), "dtype"), (self.speech.astype(np.int32), "dtype"),
                         (np.zeros((2, 100), np.float32), "shape"), (np.zeros(0, np.float32), "empty")]:
            with self.assertRaises(ValueError, msg=why) as e:
                self.r.transcribe(bad, 16000)
            self.assertIn(why if why != "shape" else "shape (2, 100)", str(e.exception))
        with self.assertRaises(ValueError):
            self.r.transcribe(self.speech, 0)
        with self.assertRaises(TypeError):
            self.r.transcribe([0.0, 0.1], 16000)
        with self.assertRaises(w2v.Error) as e:
            w2v.Recognizer(os.path.join(FIXTURE, "missing.pt"))
        self.assertIn("missing.pt", str(e.exception))

    def test_gil_released_while_transcribing(self):
        count = [0]
        stop = threading.Event()

        def spin():
            while not stop.is_set():
                count[0] += 1

        t = threading.Thread(target=spin)
        t.start()
        time.sleep(0.05)
        start, before = time.perf_counter(), count[0]
        self.r.transcribe(self.long, self.rate)
        elapsed, during = time.perf_counter() - start, count[0] - before
        stop.set()
        t.join()
        # Held GIL: the spinning thread gets at most a switch interval (5 ms) per Python step,
        # i.e. almost nothing while C++ runs. Released: it counts the whole time.
        self.assertGreater(elapsed, 0.05, "the call was too quick to tell")
        rate = during / elapsed
        t0 = time.perf_counter()
        n0 = count[0]
        # The spinner's rate alone, for comparison.
        stop.clear()
        t = threading.Thread(target=spin)
        t.start()
        time.sleep(0.2)
        stop.set()
        t.join()
        alone = (count[0] - n0) / (time.perf_counter() - t0)
        self.assertGreater(rate, 0.2 * alone, "counter %.0f/s during transcribe vs %.0f/s alone" % (rate, alone))

    def test_threads_share_one_recognizer(self):
        expected = self.r.transcribe(self.long, self.rate)["text"]
        results = [None] * 4

        def work(i):
            results[i] = self.r.transcribe(self.long if i % 2 == 0 else self.speech, self.rate)["text"]

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        short = self.r.transcribe(self.speech, self.rate)["text"]
        self.assertEqual(results, [expected, short, expected, short])

    def test_precision_and_hotwords_as_the_transcribe_command(self):
        model, path = os.path.join(FIXTURE, "model.pt"), os.path.join(FIXTURE, "speech.wav")
        hotwords_file, lm = os.path.join(FIXTURE, "python_hotwords.txt"), os.path.join(FIXTURE, "python_lm.arpa")
        # A boost this large makes the tiny random model's beam search spell the hotword.
        hotword = "HELLO 500"
        with open(hotwords_file, "w") as f:
            f.write(hotword + "\n")
        with open(lm, "w") as f:  # hotwords need a beam search, and the beam search an LM
            f.write("\\data\\\nngram 1=5\n\n\\1-grams:\n-1.0\t<unk>\n-99\t<s>\n-0.5\t</s>\n-0.7\tHELLO\n"
                    "-0.7\tWORLD\n\n\\end\\\n")

        def cli(*flags):
            out = subprocess.run([os.environ["W2V_BINARY"], "transcribe", model, path, "--lm", lm, "--decoder",
                                  "lexicon-free", "--format", "json", *flags], capture_output=True, text=True, check=True)
            return json.loads(out.stdout)["files"][0]["text"]

        texts = {}
        for precision in ("fp32", "int8"):
            texts[precision] = w2v.Recognizer(model, lm=lm, decoder="lexicon-free",
                                              precision=precision).transcribe_file(path)["text"]
            self.assertEqual(texts[precision], cli("--precision", precision), precision)
        # int8 changes a letter of this model's output, so a precision= that went unused would show.
        self.assertNotEqual(texts["fp32"], texts["int8"])
        boosted = w2v.Recognizer(model, lm=lm, decoder="lexicon-free", hotwords=[hotword]).transcribe_file(path)
        self.assertEqual(boosted["text"], cli("--hotwords", hotwords_file))
        self.assertTrue(boosted["text"].startswith("HELLO"), boosted["text"])
        with self.assertRaises(w2v.Error) as e:
            w2v.Recognizer(model, precision="fp8")
        self.assertIn("fp8", str(e.exception))
        with self.assertRaises(w2v.Error) as e:
            w2v.Recognizer(model, lm=lm, decoder="lexicon-free", hotwords=["HELLO 1e999"])
        self.assertIn("hotwords:1", str(e.exception))

    def test_align_equals_the_align_command(self):
        text = "Hello world, this is a test"
        path = os.path.join(FIXTURE, "speech.wav")
        from_array = self.r.align(self.speech, self.rate, text)
        from_file = self.r.align_file(path, text)
        cli = subprocess.run([os.environ["W2V_BINARY"], "align", os.path.join(FIXTURE, "model.pt"), path, text,
                              "--format", "json"], capture_output=True, text=True, check=True)
        expected = json.loads(cli.stdout)["files"][0]
        self.assertEqual(from_file["audio"], path)
        self.assertEqual([w["word"] for w in from_file["words"]], ["Hello", "world,", "this", "is", "a", "test"])
        for got in (from_array, from_file):
            self.assertEqual([(w["word"], w["start"], w["end"]) for w in got["words"]],
                             [(w["word"], w["start"], w["end"]) for w in expected["words"]])
            self.assertAlmostEqual(got["score"], expected["score"], places=4)
            self.assertAlmostEqual(got["duration"], expected["duration"], places=3)
        self.assertEqual(from_file["words"][1]["spoken"][0]["word"], "WORLD")
        with self.assertRaises(w2v.Error) as e:
            self.r.align(self.speech, self.rate, "costs $5")
        self.assertIn("'$'", str(e.exception))
        skipped = self.r.align(self.speech, self.rate, "costs $5", unknown="skip")
        self.assertEqual([s["character"] for s in skipped["skipped"]], ["$"])
        with self.assertRaises(ValueError):
            self.r.align(self.speech, self.rate, "a", unknown="drop")


if __name__ == "__main__":
    unittest.main(verbosity=2)
