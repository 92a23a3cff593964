"""llama-tiny's `base/` folder (BF16, two shards and their index), compressed by the TypeScript CLI, loads into a
Llama state dict in one call: the names and shapes of Hugging Face `LlamaForCausalLM`'s parameters, each tensor's bytes
those of the safetensors shards. With PyTorch, `model.load_state_dict(wcodec.load_to_torch(path))` fills a module that
has `LlamaForCausalLM`'s parameter names and shapes (built here from config.json: the transformers package is not a
dependency of these tests), and `lazy_state_dict` does the same decoding each tensor as it is copied. Skipped without
the corpus (../shared/corpus), node or the built CLI."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

from helpers import REPO, read_safetensors
import wcodec

BASE = os.path.join(os.path.dirname(REPO), 'shared', 'corpus', 'llama-tiny', 'base')
CLI = os.path.join(REPO, 'dist', 'src', 'cli', 'main.js')

try:
    import torch
except ImportError:  # pragma: no cover - depends on the environment
    torch = None


def llama_parameter_shapes(config):
    """{name: shape} of LlamaForCausalLM's parameters for a config.json (no biases; untied output unless tied)."""
    h, inter, vocab = config['hidden_size'], config['intermediate_size'], config['vocab_size']
    heads, kv = config['num_attention_heads'], config.get('num_key_value_heads', config['num_attention_heads'])
    hd = config.get('head_dim') or h // heads
    shapes = {'model.embed_tokens.weight': (vocab, h), 'model.norm.weight': (h,)}
    for i in range(config['num_hidden_layers']):
        p = f'model.layers.{i}.'
        shapes.update({
            p + 'self_attn.q_proj.weight': (heads * hd, h), p + 'self_attn.k_proj.weight': (kv * hd, h),
            p + 'self_attn.v_proj.weight': (kv * hd, h), p + 'self_attn.o_proj.weight': (h, heads * hd),
            p + 'mlp.gate_proj.weight': (inter, h), p + 'mlp.up_proj.weight': (inter, h),
            p + 'mlp.down_proj.weight': (h, inter),
            p + 'input_layernorm.weight': (h,), p + 'post_attention_layernorm.weight': (h,),
        })
    if not config.get('tie_word_embeddings', False):
        shapes['lm_head.weight'] = (vocab, h)
    return shapes


def llama_module(config):
    """A torch module whose state dict has LlamaForCausalLM's names and shapes (weights only, no forward pass)."""
    nn = torch.nn

    def holder(**children):
        m = nn.Module()
        for k, v in children.items():
            setattr(m, k, v)
        return m

    def norm(n):
        return holder(weight=nn.Parameter(torch.empty(n)))

    h, inter, vocab = config['hidden_size'], config['intermediate_size'], config['vocab_size']
    heads, kv = config['num_attention_heads'], config.get('num_key_value_heads', config['num_attention_heads'])
    hd = config.get('head_dim') or h // heads
    layers = nn.ModuleList([holder(
        self_attn=holder(q_proj=nn.Linear(h, heads * hd, bias=False), k_proj=nn.Linear(h, kv * hd, bias=False),
                         v_proj=nn.Linear(h, kv * hd, bias=False), o_proj=nn.Linear(heads * hd, h, bias=False)),
        mlp=holder(gate_proj=nn.Linear(h, inter, bias=False), up_proj=nn.Linear(h, inter, bias=False),
                   down_proj=nn.Linear(inter, h, bias=False)),
        input_layernorm=norm(h), post_attention_layernorm=norm(h)) for _ in range(config['num_hidden_layers'])])
    top = holder(model=holder(embed_tokens=nn.Embedding(vocab, h), layers=layers, norm=norm(h)))
    if not config.get('tie_word_embeddings', False):
        top.lm_head = nn.Linear(h, vocab, bias=False)
    return top.to(torch.bfloat16)


@unittest.skipUnless(os.path.isdir(BASE) and os.path.exists(CLI) and shutil.which('node'),
                     'needs ../shared/corpus/llama-tiny, node and the built CLI (npm run build)')
class LlamaStateDictTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.path = os.path.join(cls.tmp.name, 'base.wcodec')
        subprocess.run(['node', CLI, 'compress', BASE, '-o', cls.path, '-q'], check=True)
        with open(os.path.join(BASE, 'config.json')) as f:
            cls.config = json.load(f)
        cls.original = {}
        for name in sorted(os.listdir(BASE)):
            if name.endswith('.safetensors'):
                cls.original.update(read_safetensors(os.path.join(BASE, name))[0])

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_names_shapes_and_bytes_are_llamas(self):
        shapes = llama_parameter_shapes(self.config)
        tensors = wcodec.load_file(self.path)
        self.assertEqual(set(tensors), set(shapes))
        for name, t in tensors.items():
            self.assertEqual(t.shape, shapes[name], name)
            self.assertEqual(self.original[name][0], 'BF16')
            self.assertEqual(t.tobytes(), self.original[name][2], name)

    @unittest.skipIf(torch is None, 'PyTorch is not installed')
    def test_load_state_dict_in_one_call(self):
        model = llama_module(self.config)
        model.load_state_dict(wcodec.load_to_torch(self.path))  # strict: every name and shape must match
        for name, p in model.state_dict().items():
            self.assertEqual(p.dtype, torch.bfloat16)
            self.assertEqual(p.view(torch.int16).numpy().tobytes(), self.original[name][2], name)

    @unittest.skipIf(torch is None, 'PyTorch is not installed')
    def test_lazy_state_dict_decodes_as_the_model_copies(self):
        model = llama_module(self.config)
        with wcodec.lazy_state_dict(self.path) as sd:
            self.assertEqual(sd.decoded(), [])
            model.load_state_dict(sd)
            self.assertEqual(sorted(sd.decoded()), sorted(llama_parameter_shapes(self.config)))
        for name, p in model.state_dict().items():
            self.assertEqual(p.view(torch.int16).numpy().tobytes(), self.original[name][2], name)


if __name__ == '__main__':
    unittest.main()
