#!/usr/bin/python3
"""Oracle for w2v's edit distance: torchaudio.functional.edit_distance on sequence pairs.

Input (stdin): JSON list of [ref, hyp] pairs, each a list of strings.
Output (stdout): JSON list of distances.
"""
import json
import sys

import torchaudio.functional as F

pairs = json.load(sys.stdin)
json.dump([F.edit_distance(ref, hyp) for ref, hyp in pairs], sys.stdout)
