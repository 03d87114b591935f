"""Scores and feedback on traces: log_assessment, log_feedback, log_expectation, read them back."""

import heron
from heron.tracing import AssessmentSource


@heron.trace
def answer(question: str) -> str:
    return "Refunds are accepted within 30 days."


answer("How long do I have for a refund?")
trace_id = heron.get_last_active_trace_id()

heron.log_assessment(trace_id, name="correctness", value=0.9, rationale="matches the policy",
                     source=AssessmentSource("LLM_JUDGE", "gpt-4o"))
heron.log_feedback(trace_id, name="thumbs_up", value=True, source=AssessmentSource("HUMAN", "alice"))
heron.log_expectation(trace_id, name="expected_answer", value="30 days")

for assessment in heron.get_trace(trace_id).info.assessments:
    print(f"{assessment.name:16s} {assessment.kind:12s} {assessment.value!r:8} {assessment.source.source_type}")
assert len(heron.get_trace(trace_id).info.assessments) == 3
