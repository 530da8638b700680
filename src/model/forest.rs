//! The trees of an XGBoost `binary:logistic` model, evaluated in Rust: the endpoint's fast
//! path for small requests.
//!
//! Every call into libxgboost costs about 20 µs of fixed overhead (configuration parsing,
//! thread-local buffers), which is most of the work of scoring one customer. A [`Forest`]
//! walks the same trees directly in under a microsecond, with XGBoost's own arithmetic: the
//! same `f32` comparisons (`value < split` goes left, a missing value follows the node's
//! default direction), leaf values summed in tree order in `f32` from the base margin, and the
//! same sigmoid. [`Forest::verify`] checks it against libxgboost on probe rows; the server
//! only uses a forest that passed.
//!
//! Only what this crate and SageMaker's 1.7-1 container train is covered: `gbtree`,
//! `binary:logistic` (or `reg:logistic`), one output, numerical splits. Anything else is
//! [`Error::Unsupported`] and prediction stays with libxgboost.
//!
//! ```no_run
//! # fn demo(model: &purchase_predict::model::train::Model) -> purchase_predict::Result<()> {
//! use purchase_predict::model::forest::Forest;
//! let forest = Forest::from_xgboost_json(&model.to_bytes()?)?;
//! forest.verify(model.booster(), 200)?;
//! let p = forest.predict_row(&vec![0.0; forest.num_features()]);
//! # Ok(()) }
//! ```

use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::xgboost::Booster;
use crate::util::random::Rng;

/// One node, children as absolute indices into [`Forest`]'s node list; a leaf has `left == u32::MAX`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Node {
    left: u32,
    right: u32,
    feature: u32,
    default_left: bool,
    /// Split threshold, or the leaf value for a leaf.
    value: f32,
}

const LEAF: u32 = u32::MAX;

impl Node {
    /// The child a value goes to, as XGBoost decides: `x < split` goes left, a missing
    /// value (NaN) follows the default direction.
    #[inline]
    fn next(&self, x: f32) -> u32 {
        if x.is_nan() {
            if self.default_left {
                self.left
            } else {
                self.right
            }
        } else if x < self.value {
            self.left
        } else {
            self.right
        }
    }
}

/// A tree ensemble ready to score rows without libxgboost.
#[derive(Debug, Clone, PartialEq)]
pub struct Forest {
    nodes: Vec<Node>,
    roots: Vec<u32>,
    base_margin: f32,
    num_features: usize,
    /// Per node, parallel to `nodes`: the training cover (sum of hessians) and the cover-
    /// weighted mean of the leaves below (XGBoost's `FillNodeMeanValues`), for TreeSHAP.
    covers: Vec<f32>,
    means: Vec<f32>,
    /// Per tree: its depth (edges from the root to the deepest leaf).
    depths: Vec<u32>,
}

/// One element of TreeSHAP's decision path (XGBoost's `PathElement`).
#[derive(Debug, Clone, Copy, Default)]
struct PathElement {
    feature: i64,
    zero_fraction: f32,
    one_fraction: f32,
    pweight: f32,
}

fn unsupported(what: impl Into<String>) -> Error {
    Error::Unsupported(format!("fast tree evaluation: {}", what.into()))
}

fn get<'a>(v: &'a Value, path: &[&str]) -> Result<&'a Value> {
    let mut cur = v;
    for key in path {
        cur = cur
            .get(*key)
            .ok_or_else(|| unsupported(format!("no `{}` in the model JSON", path.join("."))))?;
    }
    Ok(cur)
}

/// A number XGBoost writes as a string (`"5E-1"`) or a JSON number.
fn number(v: &Value) -> Option<f64> {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

fn array<'a>(tree: &'a Value, key: &str, len: usize) -> Result<&'a Vec<Value>> {
    let a = tree
        .get(key)
        .and_then(Value::as_array)
        .ok_or_else(|| unsupported(format!("tree without `{key}`")))?;
    if a.len() != len {
        return Err(unsupported(format!(
            "`{key}` has {} entries, expected {len}",
            a.len()
        )));
    }
    Ok(a)
}

impl Forest {
    /// Read the trees of an XGBoost JSON model (what [`Booster::to_json`] writes).
    pub fn from_xgboost_json(json: &[u8]) -> Result<Forest> {
        let root: Value =
            serde_json::from_slice(json).map_err(|e| Error::json("xgboost model JSON", e))?;
        let learner = get(&root, &["learner"])?;
        let objective = get(learner, &["objective", "name"])?
            .as_str()
            .unwrap_or_default();
        if objective != "binary:logistic" && objective != "reg:logistic" {
            return Err(unsupported(format!("objective {objective}")));
        }
        let booster = get(learner, &["gradient_booster", "name"])?
            .as_str()
            .unwrap_or_default();
        if booster != "gbtree" {
            return Err(unsupported(format!("booster {booster}")));
        }
        let params = get(learner, &["learner_model_param"])?;
        let num_class = params.get("num_class").and_then(number).unwrap_or(0.0);
        let num_target = params.get("num_target").and_then(number).unwrap_or(1.0);
        if num_class > 1.0 || num_target > 1.0 {
            return Err(unsupported("more than one output"));
        }
        let num_features = params
            .get("num_feature")
            .and_then(number)
            .ok_or_else(|| unsupported("no num_feature"))? as usize;
        let base_score = params
            .get("base_score")
            .and_then(number)
            .ok_or_else(|| unsupported("no base_score"))? as f32;
        if !(base_score > 0.0 && base_score < 1.0) {
            return Err(unsupported(format!("base_score {base_score}")));
        }
        // XGBoost's logistic ProbToMargin, in f32.
        let base_margin = -(1.0f32 / base_score - 1.0).ln();
        let model = get(learner, &["gradient_booster", "model"])?;
        let parallel = model
            .get("gbtree_model_param")
            .and_then(|p| p.get("num_parallel_tree"))
            .and_then(number)
            .unwrap_or(1.0);
        if parallel != 1.0 {
            return Err(unsupported("num_parallel_tree > 1"));
        }
        let trees = get(model, &["trees"])?
            .as_array()
            .ok_or_else(|| unsupported("`trees` is not a list"))?;
        let mut forest = Forest {
            nodes: Vec::new(),
            roots: Vec::with_capacity(trees.len()),
            base_margin,
            num_features,
            covers: Vec::new(),
            means: Vec::new(),
            depths: Vec::new(),
        };
        for tree in trees {
            forest.add_tree(tree)?;
        }
        Ok(forest)
    }

    fn add_tree(&mut self, tree: &Value) -> Result<()> {
        let n = tree
            .get("left_children")
            .and_then(Value::as_array)
            .map(Vec::len)
            .ok_or_else(|| unsupported("tree without left_children"))?;
        let left = array(tree, "left_children", n)?;
        let right = array(tree, "right_children", n)?;
        let feature = array(tree, "split_indices", n)?;
        let cond = array(tree, "split_conditions", n)?;
        let default_left = array(tree, "default_left", n)?;
        let hessians = array(tree, "sum_hessian", n)?;
        if let Some(types) = tree.get("split_type").and_then(Value::as_array) {
            if types.iter().any(|t| t.as_u64() != Some(0)) {
                return Err(unsupported("categorical splits"));
            }
        }
        let offset = self.nodes.len() as u32;
        let bad = |what: &str, i: usize| unsupported(format!("node {i}: bad {what}"));
        for i in 0..n {
            let l = left[i].as_i64().ok_or_else(|| bad("left child", i))?;
            let r = right[i].as_i64().ok_or_else(|| bad("right child", i))?;
            let value = cond[i].as_f64().ok_or_else(|| bad("split condition", i))? as f32;
            let node = if l < 0 {
                Node {
                    left: LEAF,
                    right: LEAF,
                    feature: 0,
                    default_left: false,
                    value,
                }
            } else {
                let in_tree = |c: i64| c > i as i64 && (c as usize) < n;
                if !in_tree(l) || !in_tree(r) {
                    return Err(bad("child index", i));
                }
                let f = feature[i].as_u64().ok_or_else(|| bad("split index", i))?;
                if f as usize >= self.num_features {
                    return Err(bad("split index", i));
                }
                Node {
                    left: offset + l as u32,
                    right: offset + r as u32,
                    feature: f as u32,
                    default_left: default_left[i]
                        .as_bool()
                        .or_else(|| default_left[i].as_u64().map(|v| v != 0))
                        .ok_or_else(|| bad("default_left", i))?,
                    value,
                }
            };
            self.nodes.push(node);
            let cover = hessians[i].as_f64().ok_or_else(|| bad("sum_hessian", i))? as f32;
            self.covers.push(cover);
        }
        self.roots.push(offset);
        self.means.resize(self.nodes.len(), 0.0);
        let depth = self.fill_means(offset);
        self.depths.push(depth);
        Ok(())
    }

    /// XGBoost's `FillNodeMeanValues` below `node`, in its f32 arithmetic; returns the depth
    /// of the subtree.
    fn fill_means(&mut self, node: u32) -> u32 {
        let n = self.nodes[node as usize];
        if n.left == LEAF {
            self.means[node as usize] = n.value;
            return 0;
        }
        let dl = self.fill_means(n.left);
        let dr = self.fill_means(n.right);
        let (l, r) = (n.left as usize, n.right as usize);
        let mut mean = self.means[l] * self.covers[l];
        mean += self.means[r] * self.covers[r];
        mean /= self.covers[node as usize];
        self.means[node as usize] = mean;
        1 + dl.max(dr)
    }

    /// Number of input features.
    pub fn num_features(&self) -> usize {
        self.num_features
    }

    /// Number of trees.
    pub fn num_trees(&self) -> usize {
        self.roots.len()
    }

    /// The probability for one row of `num_features()` values (NaN = missing).
    pub fn predict_row(&self, row: &[f32]) -> f32 {
        let mut margin = self.base_margin;
        for &root in &self.roots {
            let mut node = &self.nodes[root as usize];
            while node.left != LEAF {
                let next = node.next(row[node.feature as usize]);
                node = &self.nodes[next as usize];
            }
            margin += node.value;
        }
        1.0f32 / (1.0f32 + (-margin).exp())
    }

    /// Probabilities for `nrow` row-major rows.
    pub fn predict(&self, values: &[f32], nrow: usize) -> Result<Vec<f32>> {
        if values.len() != nrow * self.num_features {
            return Err(Error::Shape(format!(
                "{} values for {nrow} rows of {} features",
                values.len(),
                self.num_features
            )));
        }
        Ok(values
            .chunks_exact(self.num_features.max(1))
            .map(|row| self.predict_row(row))
            .collect())
    }

    /// The margin-space base value: the log-odds before any tree (`base_score`).
    pub fn base_margin(&self) -> f32 {
        self.base_margin
    }

    /// Exact TreeSHAP contributions of one row (NaN = missing): `num_features() + 1` values,
    /// one per feature and the bias last, in margin (log-odds) space; they add up to the
    /// row's margin. The same algorithm and f32 arithmetic as libxgboost 1.7's
    /// `pred_contribs` ([`Booster::contributions`]), without its per-call overhead.
    pub fn contributions_row(&self, row: &[f32], out: &mut [f32]) {
        let nf = self.num_features;
        debug_assert_eq!(out.len(), nf + 1);
        out.fill(0.0);
        let mut tree_phi = vec![0f32; nf + 1];
        let mut path = Vec::new();
        for (t, &root) in self.roots.iter().enumerate() {
            tree_phi.fill(0.0);
            tree_phi[nf] += self.means[root as usize];
            let maxd = self.depths[t] as usize + 2;
            path.clear();
            path.resize(maxd * (maxd + 1) / 2, PathElement::default());
            self.tree_shap(row, &mut tree_phi, root, 0, &mut path, 0, 1.0, 1.0, -1);
            for (o, v) in out.iter_mut().zip(&tree_phi) {
                *o += *v;
            }
        }
        out[nf] += self.base_margin;
    }

    /// Contributions of `nrow` row-major rows: `nrow * (num_features() + 1)` values.
    pub fn contributions(&self, values: &[f32], nrow: usize) -> Result<Vec<f32>> {
        let nf = self.num_features;
        if values.len() != nrow * nf {
            return Err(Error::Shape(format!(
                "{} values for {nrow} rows of {nf} features",
                values.len()
            )));
        }
        let mut out = vec![0f32; nrow * (nf + 1)];
        if nf == 0 {
            for o in out.iter_mut() {
                *o = self.base_margin
                    + self
                        .roots
                        .iter()
                        .map(|&r| self.means[r as usize])
                        .sum::<f32>();
            }
            return Ok(out);
        }
        for (row, o) in values.chunks_exact(nf).zip(out.chunks_exact_mut(nf + 1)) {
            self.contributions_row(row, o);
        }
        Ok(out)
    }

    /// XGBoost's `RegTree::TreeShap` (condition 0): the path of the parent occupies
    /// `path[start..start + depth + 1]`, this node's copy follows it.
    #[allow(clippy::too_many_arguments)]
    fn tree_shap(
        &self,
        row: &[f32],
        phi: &mut [f32],
        node_index: u32,
        mut depth: usize,
        path: &mut [PathElement],
        start: usize,
        parent_zero_fraction: f32,
        parent_one_fraction: f32,
        parent_feature: i64,
    ) {
        let here = start + depth + 1;
        path.copy_within(start..here, here);
        let unique = &mut path[here..];
        extend_path(
            unique,
            depth,
            parent_zero_fraction,
            parent_one_fraction,
            parent_feature,
        );
        let node = self.nodes[node_index as usize];
        if node.left == LEAF {
            for i in 1..=depth {
                let w = unwound_path_sum(unique, depth, i);
                let el = unique[i];
                phi[el.feature as usize] += w * (el.one_fraction - el.zero_fraction) * node.value;
            }
            return;
        }
        let hot = node.next(row[node.feature as usize]);
        let cold = if hot == node.left {
            node.right
        } else {
            node.left
        };
        let w = self.covers[node_index as usize];
        let hot_zero_fraction = self.covers[hot as usize] / w;
        let cold_zero_fraction = self.covers[cold as usize] / w;
        let mut incoming_zero_fraction = 1.0f32;
        let mut incoming_one_fraction = 1.0f32;
        let split = i64::from(node.feature);
        if let Some(k) = (0..=depth).find(|&k| unique[k].feature == split) {
            incoming_zero_fraction = unique[k].zero_fraction;
            incoming_one_fraction = unique[k].one_fraction;
            unwind_path(unique, depth, k);
            depth -= 1;
        }
        self.tree_shap(
            row,
            phi,
            hot,
            depth + 1,
            path,
            here,
            hot_zero_fraction * incoming_zero_fraction,
            incoming_one_fraction,
            split,
        );
        self.tree_shap(
            row,
            phi,
            cold,
            depth + 1,
            path,
            here,
            cold_zero_fraction * incoming_zero_fraction,
            0.0,
            split,
        );
    }

    /// Compare with libxgboost on `rows` probe rows: values drawn around the split thresholds
    /// (both sides of each), exact thresholds, and missing values. Any difference above 1e-6
    /// is an error.
    pub fn verify(&self, booster: &Booster, rows: usize) -> Result<()> {
        let nf = self.num_features;
        let splits: Vec<(usize, f32)> = self
            .nodes
            .iter()
            .filter(|n| n.left != LEAF)
            .map(|n| (n.feature as usize, n.value))
            .collect();
        let mut rng = Rng::new(0x5eed);
        let mut x = vec![0f32; rows * nf];
        for v in x.iter_mut() {
            let r = rng.uniform();
            *v = if r < 0.1 {
                f32::NAN
            } else if splits.is_empty() {
                (rng.uniform() * 4.0 - 2.0) as f32
            } else {
                let (_, t) = splits[(rng.uniform() * splits.len() as f64) as usize];
                match (rng.uniform() * 3.0) as u32 {
                    0 => t,
                    1 => t - (rng.uniform() as f32) * t.abs().max(1e-3),
                    _ => t + (rng.uniform() as f32) * t.abs().max(1e-3),
                }
            };
        }
        let want = booster.predict_dense(&x, rows, nf)?;
        let got = self.predict(&x, rows)?;
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            if (g - w).abs() > 1e-6 {
                return Err(unsupported(format!(
                    "probe row {i}: {g} here, {w} from libxgboost"
                )));
            }
        }
        Ok(())
    }
}

/// XGBoost's `ExtendPath`.
fn extend_path(path: &mut [PathElement], depth: usize, zero: f32, one: f32, feature: i64) {
    path[depth] = PathElement {
        feature,
        zero_fraction: zero,
        one_fraction: one,
        pweight: if depth == 0 { 1.0 } else { 0.0 },
    };
    let d1 = (depth + 1) as f32;
    for i in (0..depth).rev() {
        path[i + 1].pweight += one * path[i].pweight * (i + 1) as f32 / d1;
        path[i].pweight = zero * path[i].pweight * (depth - i) as f32 / d1;
    }
}

/// XGBoost's `UnwindPath`.
fn unwind_path(path: &mut [PathElement], depth: usize, index: usize) {
    let one = path[index].one_fraction;
    let zero = path[index].zero_fraction;
    let mut next_one_portion = path[depth].pweight;
    let d1 = (depth + 1) as f32;
    for i in (0..depth).rev() {
        if one != 0.0 {
            let tmp = path[i].pweight;
            path[i].pweight = next_one_portion * d1 / ((i + 1) as f32 * one);
            next_one_portion = tmp - path[i].pweight * zero * (depth - i) as f32 / d1;
        } else {
            path[i].pweight = (path[i].pweight * d1) / (zero * (depth - i) as f32);
        }
    }
    for i in index..depth {
        path[i].feature = path[i + 1].feature;
        path[i].zero_fraction = path[i + 1].zero_fraction;
        path[i].one_fraction = path[i + 1].one_fraction;
    }
}

/// XGBoost's `UnwoundPathSum`.
fn unwound_path_sum(path: &[PathElement], depth: usize, index: usize) -> f32 {
    let one = path[index].one_fraction;
    let zero = path[index].zero_fraction;
    let mut next_one_portion = path[depth].pweight;
    let mut total = 0f32;
    let d1 = (depth + 1) as f32;
    for i in (0..depth).rev() {
        if one != 0.0 {
            let tmp = next_one_portion * d1 / ((i + 1) as f32 * one);
            total += tmp;
            next_one_portion = path[i].pweight - tmp * zero * ((depth - i) as f32 / d1);
        } else if zero != 0.0 {
            total += (path[i].pweight / zero) / ((depth - i) as f32 / d1);
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::xgboost::DMatrix;

    fn trained(rounds: usize, missing: bool) -> Booster {
        let mut rng = Rng::new(3);
        let (n, nf) = (400, 4);
        let mut x = Vec::with_capacity(n * nf);
        let mut y = Vec::with_capacity(n);
        for _ in 0..n {
            let row: Vec<f32> = (0..nf)
                .map(|_| {
                    if missing && rng.uniform() < 0.2 {
                        f32::NAN
                    } else {
                        rng.uniform() as f32
                    }
                })
                .collect();
            y.push(f32::from(row[0].is_nan() || row[0] + row[1] > 1.0));
            x.extend(row);
        }
        let mut d = DMatrix::from_dense(&x, n, nf).unwrap();
        d.set_labels(&y).unwrap();
        let mut b = Booster::new(&[&d]).unwrap();
        b.set_param("objective", "binary:logistic").unwrap();
        b.set_param("max_depth", "4").unwrap();
        b.set_param("nthread", "1").unwrap();
        for i in 0..rounds {
            b.update(i, &d).unwrap();
        }
        b
    }

    #[test]
    fn matches_libxgboost_with_missing_values() {
        let b = trained(30, true);
        let forest = Forest::from_xgboost_json(&b.to_json().unwrap()).unwrap();
        assert_eq!((forest.num_trees(), forest.num_features()), (30, 4));
        forest.verify(&b, 2000).unwrap();
    }

    #[test]
    fn contributions_equal_libxgboost_and_add_up_to_the_margin() {
        for missing in [false, true] {
            let b = trained(40, missing);
            let forest = Forest::from_xgboost_json(&b.to_json().unwrap()).unwrap();
            let mut rng = Rng::new(9);
            let n = 300;
            let x: Vec<f32> = (0..n * 4)
                .map(|_| {
                    if missing && rng.uniform() < 0.2 {
                        f32::NAN
                    } else {
                        rng.uniform() as f32
                    }
                })
                .collect();
            let want = b
                .contributions(&DMatrix::from_dense(&x, n, 4).unwrap())
                .unwrap();
            let got = forest.contributions(&x, n).unwrap();
            assert_eq!(got.len(), n * 5);
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (g - w).abs() <= 1e-5,
                    "value {i}: {g} here, {w} in libxgboost"
                );
            }
            let p = forest.predict(&x, n).unwrap();
            for (row, p) in got.chunks(5).zip(p) {
                let margin: f32 = row.iter().sum();
                let prob = 1.0 / (1.0 + (-margin).exp());
                assert!((prob - p).abs() < 1e-5, "{prob} vs {p}");
            }
        }
    }

    #[test]
    fn a_wrong_forest_fails_verification() {
        let b = trained(10, false);
        let mut forest = Forest::from_xgboost_json(&b.to_json().unwrap()).unwrap();
        let leaf = forest.nodes.iter().position(|n| n.left == LEAF).unwrap();
        forest.nodes[leaf].value += 0.5;
        assert!(forest.verify(&b, 2000).is_err());
    }

    #[test]
    fn other_models_are_unsupported() {
        let b = trained(2, false);
        let json = String::from_utf8(b.to_json().unwrap()).unwrap();
        let softmax = json.replace("binary:logistic", "multi:softprob");
        assert!(matches!(
            Forest::from_xgboost_json(softmax.as_bytes()),
            Err(Error::Unsupported(_))
        ));
        assert!(Forest::from_xgboost_json(b"{}").is_err());
    }
}
