"""Deep-learning models of the two use cases, their registry, serving and prediction maps.

- sea ice in Sentinel-1 patches: :mod:`ml.polar` (loading, spatial split), :mod:`ml.augment`,
  :mod:`ml.models.sea_ice` (the ad-hoc CNN and the modified VGG-16);
- crop types in Sentinel-2 time series: :mod:`ml.series` (UCR Crop, the eo-learn patch),
  :mod:`ml.harmonise` (monthly composites), :mod:`ml.models.crop` (LSTM, TempCNN, StarRNN);
- :mod:`ml.train` (recipes, two-phase training, grid search), :mod:`ml.metrics`,
  :mod:`ml.registry` (versions, metrics, configurations, data hashes; export and import);
- :mod:`ml.inference` (class maps of a patch mosaic or a time-series cube), :mod:`ml.vectorise`
  and :mod:`ml.georef` (regions of equal class as polygons with coordinates), written as GeoParquet
  for the mapping stage; :mod:`ml.serving` (predictions for the API, logged).

TensorFlow is imported only when a model is built, trained or loaded (see :mod:`ml._keras`).
See docs/ml.md.
"""
