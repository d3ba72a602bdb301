#!/usr/bin/env python3
"""Opens a Medley model file with the Python safetensors package and prints its tensors.

Usage: check_safetensors.py MODEL.safetensors   (needs: pip install numpy safetensors)
Exits non-zero if the package refuses the file.
"""
import sys

from safetensors import safe_open

with safe_open(sys.argv[1], framework="numpy") as f:
    metadata = f.metadata()
    print(f"format_version={metadata.get('format_version')} model_version={metadata.get('model_version')} "
          f"architecture={metadata.get('architecture')} domains={metadata.get('domains')}")
    for name in f.keys():
        tensor = f.get_tensor(name)
        print(f"{name} {tensor.dtype} {list(tensor.shape)}")
