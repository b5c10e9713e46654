"""The G-Query network (Flax): token embedding, encoder over data, decoder over queries.

* :class:`TokenEmbedding`: x = φ(type) + u·E_u + p·E_p (see :mod:`._tokens`).
* Encoder: ``encoder_layers`` pre-LayerNorm blocks of self-attention over the data
  tokens and a feed-forward block.
* Decoder: ``decoder_layers`` pre-LayerNorm blocks of self-attention over the query
  tokens, cross-attention from the queries to the encoded data, and a feed-forward
  block.
* Attention is **full-dimensional multi-head**: every one of the ``heads`` heads projects
  queries, keys and values to the full width D (Flax ``MultiHeadDotProductAttention``
  with ``qkv_features = heads·D``, head dimension D), and the output projection maps
  heads·D back to D: 4·heads·D² weights per attention block (+ biases).
* Head: LayerNorm and a dense layer to (ŷ, s) per query; σ = softplus(s) + 1e-3 > 0,
  both in the standardised target units of :func:`._tokens.target_statistics`.

Masks: padded or masked-out data tokens are never attended to; masked queries are
computed but excluded from the loss.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from ._config import ModelConfig
from ._tokens import N_TYPES, N_VALUES, n_params

__all__ = ["GQuery", "TokenEmbedding", "count_parameters"]

SIGMA_FLOOR = 1e-3


class TokenEmbedding(nn.Module):
    """x = φ(type) + Σ u_i e_{u,i} + Σ p_j e_{p,j} (one learned vector per value / parameter slot)."""

    width: int
    n_params: int

    @nn.compact
    def __call__(self, types, values, params):
        phi = nn.Embed(N_TYPES, self.width, name="type")(types)
        init = nn.initializers.normal(stddev=1.0)
        e_u = self.param("value_vectors", init, (N_VALUES, self.width))
        e_p = self.param("parameter_vectors", init, (self.n_params, self.width))
        return phi + values @ e_u + params @ e_p


class _FeedForward(nn.Module):
    width: int
    ratio: int
    dropout: float

    @nn.compact
    def __call__(self, x, deterministic: bool):
        h = nn.gelu(nn.Dense(self.width * self.ratio)(x))
        h = nn.Dropout(self.dropout)(h, deterministic=deterministic)
        return nn.Dense(self.width)(h)


def _attention(cfg: ModelConfig, name: str):
    return nn.MultiHeadDotProductAttention(
        num_heads=cfg.heads,
        qkv_features=cfg.heads * cfg.width,  # full-dimensional heads: head dim = width
        out_features=cfg.width,
        dropout_rate=cfg.dropout,
        name=name,
    )


class EncoderLayer(nn.Module):
    config: ModelConfig

    @nn.compact
    def __call__(self, x, mask, deterministic: bool):
        cfg = self.config
        h = nn.LayerNorm()(x)
        x = x + _attention(cfg, "self_attention")(h, h, mask=mask, deterministic=deterministic)
        return x + _FeedForward(cfg.width, cfg.mlp_ratio, cfg.dropout)(nn.LayerNorm()(x), deterministic)


class DecoderLayer(nn.Module):
    config: ModelConfig

    @nn.compact
    def __call__(self, q, memory, self_mask, cross_mask, deterministic: bool, sow: bool = False):
        cfg = self.config
        h = nn.LayerNorm()(q)
        q = q + _attention(cfg, "self_attention")(h, h, mask=self_mask, deterministic=deterministic)
        h = nn.LayerNorm()(q)
        q = q + _attention(cfg, "cross_attention")(
            h, memory, mask=cross_mask, deterministic=deterministic, sow_weights=sow
        )
        return q + _FeedForward(cfg.width, cfg.mlp_ratio, cfg.dropout)(nn.LayerNorm()(q), deterministic)


class GQuery(nn.Module):
    """The query-based transformer. ``__call__(tokens) -> (mean, sigma)``, each (B, n_queries).

    ``tokens`` is a dict of arrays with a leading batch axis: ``data_type`` (B, L) int,
    ``data_values`` (B, L, 4), ``data_params`` (B, L, P), ``data_mask`` (B, L) bool,
    and the same four ``query_*`` arrays for the queries.
    """

    config: ModelConfig

    @nn.compact
    def __call__(self, tokens, deterministic: bool = True, sow_attention: bool = False):
        cfg = self.config
        embed = TokenEmbedding(cfg.width, n_params(cfg.n_fourier), name="embedding")
        x = embed(tokens["data_type"], tokens["data_values"], tokens["data_params"])
        q = embed(tokens["query_type"], tokens["query_values"], tokens["query_params"])
        data_mask, query_mask = tokens["data_mask"], tokens["query_mask"]
        enc_mask = nn.make_attention_mask(data_mask, data_mask)
        self_mask = nn.make_attention_mask(query_mask, query_mask)
        cross_mask = nn.make_attention_mask(query_mask, data_mask)
        for i in range(cfg.encoder_layers):
            x = EncoderLayer(cfg, name=f"encoder_{i}")(x, enc_mask, deterministic)
        memory = nn.LayerNorm(name="encoder_norm")(x)
        for i in range(cfg.decoder_layers):
            q = DecoderLayer(cfg, name=f"decoder_{i}")(
                q, memory, self_mask, cross_mask, deterministic, sow_attention and i == cfg.decoder_layers - 1
            )
        out = nn.Dense(2, name="head")(nn.LayerNorm(name="decoder_norm")(q))
        mean = out[..., 0]
        sigma = jax.nn.softplus(out[..., 1]) + SIGMA_FLOOR
        return mean, sigma


def count_parameters(params) -> int:
    """Number of scalar parameters of a parameter pytree."""
    return int(sum(x.size for x in jax.tree_util.tree_leaves(params)))


def init_parameters(key, config: ModelConfig, tokens):
    """Parameters of :class:`GQuery` for example ``tokens`` (any batch size)."""
    return GQuery(config).init(key, tokens)["params"]


def abstract_parameter_count(config: ModelConfig, n_data: int = 241, n_queries: int = 164) -> int:
    """Exact parameter count of a configuration without allocating it (``jax.eval_shape``)."""
    p = n_params(config.n_fourier)
    tokens = {
        "data_type": jnp.zeros((1, n_data), jnp.int32),
        "data_values": jnp.zeros((1, n_data, N_VALUES)),
        "data_params": jnp.zeros((1, n_data, p)),
        "data_mask": jnp.ones((1, n_data), bool),
        "query_type": jnp.zeros((1, n_queries), jnp.int32),
        "query_values": jnp.zeros((1, n_queries, N_VALUES)),
        "query_params": jnp.zeros((1, n_queries, p)),
        "query_mask": jnp.ones((1, n_queries), bool),
    }
    shapes = jax.eval_shape(lambda k: GQuery(config).init(k, tokens), jax.random.key(0))
    return count_parameters(shapes["params"])
