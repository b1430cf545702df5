// Owns the config.json of the full-size Nucleotide Transformers the benches use (shapes only; no weights are
// downloaded): NT-2.5B (v1: learned positions, 32 x 2,560) and NT-500M v2 (rotary, GLU, 29 x 1,024).

export const NT_2_5B = {
  vocab_size: 4105,
  hidden_size: 2560,
  num_hidden_layers: 32,
  num_attention_heads: 20,
  intermediate_size: 10240,
  max_position_embeddings: 1002,
  pad_token_id: 1,
  mask_token_id: 2,
  layer_norm_eps: 1e-12,
  position_embedding_type: 'absolute',
  token_dropout: true,
  emb_layer_norm_before: false,
};
export const NT_500M_V2 = {
  vocab_size: 4107,
  hidden_size: 1024,
  num_hidden_layers: 29,
  num_attention_heads: 16,
  intermediate_size: 4096,
  max_position_embeddings: 2050,
  pad_token_id: 1,
  mask_token_id: 2,
  layer_norm_eps: 1e-12,
  position_embedding_type: 'rotary',
  add_bias_fnn: false,
  token_dropout: false,
};
