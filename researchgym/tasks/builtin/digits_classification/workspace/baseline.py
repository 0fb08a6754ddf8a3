"""Baseline: nearest centroid, in pure Python.

Each class is represented by the mean image of its training examples; an image gets the
class of the closest mean (Euclidean distance). Fits on data/train.csv, prints its accuracy
on data/validation.csv, and writes its predictions for data/test.csv to submission.csv
(columns id,prediction).
"""

import csv

PIXELS = [f"pixel_{r}_{c}" for r in range(8) for c in range(8)]
CLASSES = range(10)


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def image(row):
    return [float(row[p]) for p in PIXELS]


def centroids(rows):
    means = []
    for label in CLASSES:
        images = [image(r) for r in rows if int(r["target"]) == label]
        means.append([sum(column) / len(images) for column in zip(*images)])
    return means


def classify(means, x):
    distances = [sum((a - b) ** 2 for a, b in zip(mean, x)) for mean in means]
    return min(CLASSES, key=lambda label: distances[label])


def main():
    train, validation, test = (read(f"data/{s}.csv") for s in ("train", "validation", "test"))
    means = centroids(train)
    correct = sum(classify(means, image(r)) == int(r["target"]) for r in validation)
    print(f"validation accuracy: {correct / len(validation):.4f}")
    with open("submission.csv", "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["id", "prediction"])
        for row in test:
            out.writerow([row["id"], classify(means, image(row))])
    print(f"wrote submission.csv: {len(test)} predictions")


if __name__ == "__main__":
    main()
