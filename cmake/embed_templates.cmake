# Writes OUT: a C++ file holding the shipped templates as raw string literals.
file(READ ${CALLOUT} callout_text)
file(READ ${POSTMORTEM} postmortem_text)
file(READ ${STYLESHEET} stylesheet_text)
file(WRITE ${OUT} "// Generated from templates/ by cmake/embed_templates.cmake; do not edit.\n"
  "#include \"daemon/writeup/render.hpp\"\n"
  "namespace calloutd {\n"
  "const char* const k_embedded_callout_template = R\"calloutd_tmpl(${callout_text})calloutd_tmpl\";\n"
  "const char* const k_embedded_postmortem_template = R\"calloutd_tmpl(${postmortem_text})calloutd_tmpl\";\n"
  "const char* const k_embedded_stylesheet = R\"calloutd_tmpl(${stylesheet_text})calloutd_tmpl\";\n"
  "}  // namespace calloutd\n")
