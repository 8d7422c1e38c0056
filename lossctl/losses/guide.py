"""The overview ``lossctl explain`` prints without a loss name: how to choose a loss."""

from __future__ import annotations

GUIDE: tuple[tuple[str, str], ...] = (
    (
        "Loss and cost",
        "A loss function scores one prediction against its true value: how wrong is this "
        "sample? The cost is the loss averaged over all samples (lossctl: the weighted mean "
        "sum(w*l) / sum(w), then a square root for rmse and rmsle). Training a model means "
        "searching for the parameters with the lowest cost, usually by gradient descent: "
        "each step moves the weights against the gradient of the cost. So the shape of the "
        "loss decides what the model learns, and which mistakes it cares about.",
    ),
    (
        "What a loss is for",
        "Three jobs: quantify the error as one number; guide optimisation (its gradient "
        "says in which direction and how hard to correct); and compare models. A lower cost "
        "means a better model only under the same loss, on the same rows: lossctl compare "
        "also tells whether the difference is larger than chance.",
    ),
    (
        "Regression (predicting a value)",
        "mse squares the residuals: the default, optimal for Gaussian noise, but a few large "
        "errors dominate it. mae (L1) counts every unit of error the same: robust, targets "
        "the median. huber is mse for residuals below delta and mae beyond: the usual choice "
        "when the data have outliers; log_cosh and pseudo_huber are smooth versions. For "
        "positive, skewed targets where relative error matters use msle, or the Poisson, "
        "Gamma or Tweedie deviances; for a predicted quantile (P90) the quantile loss; for "
        "errors in percent mape or smape.",
    ),
    (
        "Binary classification",
        "Cross-entropy (bce, log loss) is the standard for predicted probabilities: it "
        "rewards confident right answers and punishes confident wrong ones without bound. "
        "If the model outputs logits, use bce_logits, which is exact for any logit. Margin "
        "classifiers (SVMs) are scored with hinge (labels -1/+1), which ignores points "
        "beyond the margin. focal down-weights easy examples under heavy class imbalance; "
        "brier is a bounded measure of probability quality; zero_one is the error rate.",
    ),
    (
        "Multiclass classification",
        "cross_entropy for predicted class probabilities (labels as class indices, names or "
        "one-hot/soft target columns), softmax_cross_entropy for logits, kl_div for soft "
        "target distributions, multiclass_hinge for per-class margin scores, brier and "
        "zero_one as for binary.",
    ),
    (
        "Next",
        "lossctl losses lists the catalogue; lossctl explain NAME shows one loss in detail; "
        "lossctl eval FILE computes the losses on your predictions.",
    ),
)
