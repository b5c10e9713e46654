"""Gravity inversion on prism meshes: neural density fields (INR) and a classical baseline.

- :class:`GravityProblem`: stations, g_z data (mGal) and σ over a :class:`PrismMesh`;
  its forward operator is a dense sensitivity matrix when it fits in memory, the
  matrix-free mesh path otherwise.
- :class:`INRInversion` with :class:`INRConfig` and :class:`FieldConfig`: density as a
  Fourier-feature (or positional-encoding, or plain) MLP trained through the prism
  operator with Optax, early-stopped at a χ² target, checkpointed with Orbax.
- :func:`tikhonov_inversion`: Li & Oldenburg style depth-weighted Tikhonov inversion by
  CG on the normal equations, with the trade-off parameter set to the same χ² target.
- Regularisers (:func:`smoothness`, :func:`total_variation`, :func:`reference_model`,
  :func:`depth_weighted_smallness`) and any user function of the density grid.
- :mod:`jaxgeo.inversion.synthetic`: the set-up of Mishra et al. (2026).
"""

from ._fields import ENCODINGS, DensityField, FieldConfig, count_parameters, fourier_features, fourier_matrix, positional_encoding
from ._inr import INRConfig, INRInversion, INRResult, INRState
from ._metrics import chi2, correlation, data_rms_misfit, model_metrics, rms_density_error
from ._problem import DenseOperator, GravityProblem, MeshOperator, depth_weights, standardized_centers
from ._regularizers import depth_weighted_smallness, reference_model, smoothness, total_variation
from ._tikhonov import TikhonovConfig, TikhonovResult, tikhonov_inversion

__all__ = [
    "ENCODINGS", "DensityField", "FieldConfig", "count_parameters", "fourier_features", "fourier_matrix",
    "positional_encoding", "INRConfig", "INRInversion", "INRResult", "INRState", "chi2", "correlation",
    "data_rms_misfit", "model_metrics", "rms_density_error", "DenseOperator", "GravityProblem", "MeshOperator",
    "depth_weights", "standardized_centers", "depth_weighted_smallness", "reference_model", "smoothness",
    "total_variation", "TikhonovConfig", "TikhonovResult", "tikhonov_inversion",
]
