"""The reference of benches/serve.sh: a model served the way SageMaker's XGBoost 1.7-1 container
serves it in algorithm mode (sagemaker_xgboost_container/algorithm_mode/serve.py):

- a Flask app under gunicorn, gevent workers, one worker per core, keep-alive 60 s;
- each worker loads the booster once and sets nthread=1;
- POST /invocations with text/csv: the body is split into lines and fields, empty fields become
  NaN, numpy turns the strings into floats, xgboost.DMatrix, Booster.predict;
- the answer is the probabilities joined by commas, text/csv.

Written from the container's behaviour, not copied. Run with:
    MODEL_TAR=out/model.tar.gz gunicorn -k gevent -w 2 --keep-alive 60 -b 127.0.0.1:8081 \
        --chdir benches reference_server:app
"""

import csv
import http.client
import os
import tarfile
import tempfile

import flask
import numpy as np
import xgboost as xgb

app = flask.Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = 6 * 1024 * 1024


def _load_booster():
    # The model archive's top-level `xgboost-model`, as SageMaker unpacks it to /opt/ml/model.
    model_dir = tempfile.mkdtemp(prefix="reference-model-")
    with tarfile.open(os.environ["MODEL_TAR"]) as tar:
        tar.extract("xgboost-model", model_dir)
    booster = xgb.Booster()
    booster.load_model(os.path.join(model_dir, "xgboost-model"))
    booster.set_param("nthread", 1)
    return booster


BOOSTER = _load_booster()


def _csv_to_dmatrix(text):
    first = text.split("\n")[0][:512]
    delimiter = csv.Sniffer().sniff(first).delimiter
    if delimiter.isalnum():
        delimiter = ","
    rows = [["nan" if f == "" else f for f in line.split(delimiter)] for line in text.split("\n")]
    return xgb.DMatrix(np.array(rows).astype(float))


@app.route("/ping", methods=["GET"])
def ping():
    return flask.Response(status=http.client.OK)


@app.route("/invocations", methods=["POST"])
def invocations():
    payload = flask.request.data
    if len(payload) == 0:
        return flask.Response(response="", status=http.client.NO_CONTENT)
    try:
        dtest = _csv_to_dmatrix(payload.strip().decode("utf-8"))
    except Exception as e:  # the container answers 415 for unparseable input
        return flask.Response(response=str(e), status=http.client.UNSUPPORTED_MEDIA_TYPE)
    preds = BOOSTER.predict(dtest, validate_features=False)
    return flask.Response(
        response=",".join(map(str, preds.tolist())), status=http.client.OK, mimetype="text/csv"
    )
