"""Baseline: ordinary least squares on the ten features, in pure Python.

Fits on data/train.csv, prints its RMSE on data/validation.csv, and writes its predictions
for data/test.csv to submission.csv (columns id,prediction).
"""

import csv
import math

FEATURES = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def design(rows, means, scales):
    """Standardised features (for a well-conditioned fit) and a leading 1 for the intercept."""
    return [[1.0] + [(float(r[c]) - means[c]) / scales[c] for c in FEATURES] for r in rows]


def solve(a, b):
    """Solve a x = b by Gaussian elimination with partial pivoting."""
    n = len(b)
    m = [row[:] + [bi] for row, bi in zip(a, b)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(col + 1, n):
            factor = m[r][col] / m[col][col]
            for c in range(col, n + 1):
                m[r][c] -= factor * m[col][c]
    x = [0.0] * n
    for r in reversed(range(n)):
        x[r] = (m[r][n] - sum(m[r][c] * x[c] for c in range(r + 1, n))) / m[r][r]
    return x


def fit(x, y):
    """Least squares through the normal equations: (X'X) w = X'y."""
    k = len(x[0])
    xtx = [[sum(row[i] * row[j] for row in x) for j in range(k)] for i in range(k)]
    xty = [sum(row[i] * t for row, t in zip(x, y)) for i in range(k)]
    return solve(xtx, xty)


def predict(w, x):
    return [sum(wi * xi for wi, xi in zip(w, row)) for row in x]


def main():
    train, validation, test = (read(f"data/{s}.csv") for s in ("train", "validation", "test"))
    means = {c: sum(float(r[c]) for r in train) / len(train) for c in FEATURES}
    scales = {
        c: math.sqrt(sum((float(r[c]) - means[c]) ** 2 for r in train) / len(train))
        for c in FEATURES
    }
    w = fit(design(train, means, scales), [float(r["target"]) for r in train])
    guesses = predict(w, design(validation, means, scales))
    truth = [float(r["target"]) for r in validation]
    rmse = math.sqrt(sum((g - t) ** 2 for g, t in zip(guesses, truth)) / len(truth))
    print(f"validation RMSE: {rmse:.4f}")
    with open("submission.csv", "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["id", "prediction"])
        for row, guess in zip(test, predict(w, design(test, means, scales))):
            out.writerow([row["id"], repr(guess)])
    print(f"wrote submission.csv: {len(test)} predictions")


if __name__ == "__main__":
    main()
