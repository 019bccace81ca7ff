"""scikit-learn when it is installed, small stand-ins when it is not."""
import numbers

import numpy as np

try:  # scikit-learn is optional: with it, NMF is a real sklearn estimator.
    from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.utils import check_random_state
    from sklearn.utils.validation import check_is_fitted, check_non_negative, validate_data

    _HAVE_SKLEARN = True
    _Bases = (ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator)
except ImportError:  # pragma: no cover - exercised without scikit-learn only
    _HAVE_SKLEARN = False
    check_is_fitted = check_non_negative = validate_data = None

    class ConvergenceWarning(UserWarning):
        """Issued when max_iter is reached before convergence."""

    class _MiniBase:
        """get_params/set_params for a plain-numpy install."""

        def get_params(self, deep=True):
            import inspect

            names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
            return {n: getattr(self, n) for n in names}

        def set_params(self, **params):
            for k, v in params.items():
                setattr(self, k, v)
            return self

        def fit_transform_default(self, X, y=None):
            return self.fit(X).transform(X)

    _Bases = (_MiniBase,)

    def check_random_state(seed):
        if seed is None or seed is np.random:
            return np.random.mtrand._rand
        if isinstance(seed, numbers.Integral):
            return np.random.RandomState(seed)
        return seed
