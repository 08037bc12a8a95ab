/** Logistic regression with L2 regularisation (scikit-learn's LogisticRegression objective), AUC and calibration. */
export * from './regression.js';
export * from './evaluation.js';
