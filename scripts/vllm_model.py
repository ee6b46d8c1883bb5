"""Turns the default model's GGUF (SmolLM2-135M-Instruct, Q4_1) into a directory
vLLM can serve on a CPU: bf16 safetensors, config and tokenizer (with its ChatML
chat template). Used by scripts/vllm setup; runs in the vLLM venv.

    python scripts/vllm_model.py GGUF_FILE OUT_DIR

vLLM serves a plain bf16 checkpoint (as for the captured fixtures in
shared/fixtures/vllm-0.32-cpu), and there is no model hub here, so the weights
come from the file tokenpace itself runs: transformers dequantizes it on load.
A model loaded from a GGUF keeps its quantization config and will not save, so
a plain model is built from the same config and given the dequantized weights.
The output is written to OUT_DIR.tmp, checked, then renamed, so a present
OUT_DIR is always complete. The output is byte for byte the same on each run.
"""

import json
import os
import shutil
import sys


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    gguf_path, out_dir = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    if not os.path.isfile(gguf_path):
        print(f"vllm_model: no such file: {gguf_path}", file=sys.stderr)
        return 1
    src_dir, gguf_name = os.path.split(gguf_path)

    # No network lookups: everything comes from the file.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(src_dir, gguf_file=gguf_name)
    if not getattr(tokenizer, "chat_template", None):
        print("vllm_model: the GGUF has no chat template", file=sys.stderr)
        return 1

    loaded = AutoModelForCausalLM.from_pretrained(
        src_dir, gguf_file=gguf_name, dtype=torch.float32
    )
    config = AutoConfig.from_pretrained(src_dir, gguf_file=gguf_name)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.dtype = torch.bfloat16
    model = type(loaded)(config)
    missing, unexpected = model.load_state_dict(loaded.state_dict(), strict=False)
    # A tied output head shares the embedding and may be absent from the file.
    missing = [k for k in missing if not (k == "lm_head.weight" and config.tie_word_embeddings)]
    if missing or unexpected:
        print(f"vllm_model: weights do not match: missing {missing}, unexpected {unexpected}",
              file=sys.stderr)
        return 1
    if config.tie_word_embeddings:
        model.tie_weights()
    model = model.to(torch.bfloat16).eval()

    tmp = out_dir + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)

    # vLLM reads the template from tokenizer_config.json (newer transformers
    # also write chat_template.jinja); make sure it is there.
    tc_path = os.path.join(tmp, "tokenizer_config.json")
    with open(tc_path) as f:
        tc = json.load(f)
    if not tc.get("chat_template"):
        tc["chat_template"] = tokenizer.chat_template
        with open(tc_path, "w") as f:
            json.dump(tc, f, indent=2, ensure_ascii=False)
            f.write("\n")

    # Check: the saved directory loads and says what the GGUF says.
    check = AutoModelForCausalLM.from_pretrained(tmp, dtype=torch.bfloat16)
    ids = tokenizer("The capital of France is", return_tensors="pt").input_ids
    with torch.no_grad():
        a = loaded.to(torch.bfloat16)(ids).logits[0, -1].argmax().item()
        b = check(ids).logits[0, -1].argmax().item()
    if a != b:
        print(f"vllm_model: saved model disagrees with the GGUF (next token {b} vs {a})",
              file=sys.stderr)
        return 1

    shutil.rmtree(out_dir, ignore_errors=True)
    os.rename(tmp, out_dir)
    n = sum(p.numel() for p in check.parameters())
    print(f"vllm_model: {gguf_name} -> {out_dir} ({n / 1e6:.0f}M parameters, bf16, "
          f"next token after the probe: {tokenizer.decode([b])!r})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
