// RecordMarker: an event in the history, nothing else.
import { EventType } from "../../../gen/taskgate/swf/v1/types_pb.ts";
import { type DecisionRule, required } from "./rule.ts";

/** RecordMarker: a MarkerRecorded event. */
export const recordMarker: DecisionRule<"recordMarkerDecisionAttributes"> = {
  attributes: "recordMarkerDecisionAttributes",
  name: "RecordMarker",
  required: true,
  closes: false,
  async apply({ x, dtc }, attrs) {
    const a = required(attrs);
    x.append({ eventType: EventType.MARKER_RECORDED, markerRecordedEventAttributes: { markerName: a.markerName, details: a.details, decisionTaskCompletedEventId: dtc } });
    return "no-decision";
  },
};
