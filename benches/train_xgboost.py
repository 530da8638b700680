"""Python xgboost 1.7.6 trained on the train.csv `purchase-predict` wrote (benches/stages.sh):
the tutorial's hyperparameters (max_depth 5, eta 0.2, gamma 4, min_child_weight 6, subsample
0.8, binary:logistic), tree_method hist, ROUNDS rounds on THREADS threads. The CSV is read
untimed; DMatrix construction and training are timed, as benches/prep.rs times ours.
The last line is one JSON object.

    python train_xgboost.py TRAIN_CSV THREADS ROUNDS
"""

import json
import sys
import time

import pandas as pd
import xgboost as xgb


def main(path, threads, rounds):
    data = pd.read_csv(path, header=None, dtype="float32").to_numpy()
    y, x = data[:, 0], data[:, 1:]
    params = {"max_depth": 5, "eta": 0.2, "gamma": 4, "min_child_weight": 6,
              "subsample": 0.8, "lambda": 1, "alpha": 0, "colsample_bytree": 1,
              "scale_pos_weight": 1, "objective": "binary:logistic", "eval_metric": "auc",
              "tree_method": "hist", "nthread": threads, "seed": 0}
    t = time.perf_counter()
    d = xgb.DMatrix(x, label=y, nthread=threads)
    booster = xgb.train(params, d, num_boost_round=rounds)
    seconds = time.perf_counter() - t
    print(f"python xgboost {xgb.__version__}: {rounds} rounds on {x.shape[0]} rows x "
          f"{x.shape[1]} features in {seconds:.2f} s")
    print(json.dumps({"seconds": round(seconds, 4), "rows": x.shape[0], "features": x.shape[1],
                      "rounds": booster.num_boosted_rounds(), "xgboost": xgb.__version__}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
