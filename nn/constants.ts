/** BN epsilon, PyTorch's default (the reference code's), also used by the exported Keras layers. */
export const BN_EPSILON = 1e-5;
