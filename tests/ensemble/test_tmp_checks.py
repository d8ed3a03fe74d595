import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks
from foldstack.ensemble import *

def C(): return [("lr", LogisticRegression()), ("tree", DecisionTreeClassifier(max_depth=2, random_state=0))]
def R(): return [("ridge", Ridge()), ("tree", DecisionTreeRegressor(max_depth=2, random_state=0))]
ESTS = [AveragingClassifier(C(), cv=2), AveragingClassifier(C(), weights="greedy", cv=2),
        AveragingRegressor(R(), weights="optimized", cv=2), StackingClassifier(C(), cv=2), StackingRegressor(R(), cv=2)]

@pytest.mark.filterwarnings("ignore::foldstack.exceptions.CandidateFailedWarning")
@parametrize_with_checks(ESTS)
def test_checks(estimator, check):
    check(estimator)
