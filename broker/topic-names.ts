/**
 * Topic names and filters a client may send, beyond the ACL: MQTT 3.1.1 §1.5.3 forbids U+0000
 * and ill-formed UTF-8 in them, and a receiver of either MUST close the connection
 * ([MQTT-1.5.3-1], [MQTT-1.5.3-2]). A NUL would cut the topic short in C consumers and logs.
 *
 *   topic contains        decision
 *   --------------------  ---------------------------------------------------------------
 *   U+0000                refused: 'nul'
 *   U+FFFD                refused: 'ill_formed_utf8' — mqtt-packet decodes the wire bytes
 *                         with replacement, so every ill-formed byte arrives as U+FFFD and
 *                         a literal U+FFFD cannot be told apart from one (no id has one)
 *   neither               allowed
 */
export function topicProblem(topic: string): 'nul' | 'ill_formed_utf8' | null {
  if (topic.includes('\u0000')) return 'nul';
  if (topic.includes('\ufffd')) return 'ill_formed_utf8';
  return null;
}
