# Model presets compiled in: reads configs/models/*.json (schema dcpbench-model/1, documented in
# configs/models/README.md), checks every file at configure time (all fields present, no unknown
# field, name = file name, heads_per_rank x tp = num_attention_heads, lse_base e|2, dtype
# bf16|fp16) and writes a C++ source with one constant ModelPreset row per file, sorted by name.
# A bad preset fails the configure step naming the file and the field.
#
#   dcp_generate_model_presets(<out.cpp>)

function(_dcp_model_field json file field out_var)
  string(JSON _v ERROR_VARIABLE _err GET "${json}" ${field})
  if(_err)
    message(FATAL_ERROR "${file}: field '${field}' is missing (schema dcpbench-model/1)")
  endif()
  set(${out_var} "${_v}" PARENT_SCOPE)
endfunction()

function(_dcp_model_int json file field out_var)
  string(JSON _t TYPE "${json}" ${field})
  _dcp_model_field("${json}" "${file}" ${field} _v)
  if(NOT _t STREQUAL "NUMBER" OR NOT _v MATCHES "^[1-9][0-9]*$")
    message(FATAL_ERROR "${file}: field '${field}' is '${_v}'; accepted: an integer >= 1")
  endif()
  set(${out_var} "${_v}" PARENT_SCOPE)
endfunction()

function(dcp_generate_model_presets out)
  set(_dir ${PROJECT_SOURCE_DIR}/configs/models)
  file(GLOB _files CONFIGURE_DEPENDS ${_dir}/*.json)
  list(SORT _files)
  set(_known schema name model attention tp num_attention_heads heads_per_rank head_dim
      head_dim_field lse_base lse_base_note dtype config_url config_fields confirmed_via notes)
  set(_rows "")
  foreach(_f IN LISTS _files)
    file(READ ${_f} _json)
    get_filename_component(_stem ${_f} NAME_WLE)
    string(JSON _n ERROR_VARIABLE _err LENGTH "${_json}")
    if(_err)
      message(FATAL_ERROR "${_f}: not a JSON object: ${_err}")
    endif()
    math(EXPR _last "${_n} - 1")
    foreach(_i RANGE ${_last})
      string(JSON _key MEMBER "${_json}" ${_i})
      if(NOT _key IN_LIST _known)
        message(FATAL_ERROR "${_f}: unknown field '${_key}'; accepted: ${_known}")
      endif()
    endforeach()
    foreach(_k IN LISTS _known)
      _dcp_model_field("${_json}" "${_f}" ${_k} _unused)
    endforeach()
    _dcp_model_field("${_json}" "${_f}" schema _schema)
    if(NOT _schema STREQUAL "dcpbench-model/1")
      message(FATAL_ERROR "${_f}: schema '${_schema}'; accepted: dcpbench-model/1")
    endif()
    _dcp_model_field("${_json}" "${_f}" name _name)
    if(NOT _name STREQUAL _stem)
      message(FATAL_ERROR "${_f}: name '${_name}' differs from the file name; accepted: ${_stem}")
    endif()
    if(NOT _name MATCHES "^[a-z0-9][a-z0-9._-]*$")
      message(FATAL_ERROR "${_f}: name '${_name}'; accepted: lower-case letters, digits, . _ -")
    endif()
    _dcp_model_field("${_json}" "${_f}" model _model)
    _dcp_model_field("${_json}" "${_f}" attention _attention)
    if(NOT _attention MATCHES "^(mla|gqa)$")
      message(FATAL_ERROR "${_f}: attention '${_attention}'; accepted: mla|gqa")
    endif()
    _dcp_model_int("${_json}" "${_f}" tp _tp)
    _dcp_model_int("${_json}" "${_f}" num_attention_heads _heads)
    _dcp_model_int("${_json}" "${_f}" heads_per_rank _hpr)
    _dcp_model_int("${_json}" "${_f}" head_dim _d)
    math(EXPR _prod "${_hpr} * ${_tp}")
    if(NOT _prod EQUAL _heads)
      message(FATAL_ERROR "${_f}: heads_per_rank ${_hpr} x tp ${_tp} != num_attention_heads "
                          "${_heads}; accepted: num_attention_heads / tp")
    endif()
    _dcp_model_field("${_json}" "${_f}" lse_base _lse)
    if(_lse STREQUAL "e")
      set(_lse_cpp "LseBase::kE")
    elseif(_lse STREQUAL "2")
      set(_lse_cpp "LseBase::kTwo")
    else()
      message(FATAL_ERROR "${_f}: lse_base '${_lse}'; accepted: e|2")
    endif()
    _dcp_model_field("${_json}" "${_f}" dtype _dtype)
    if(_dtype STREQUAL "bf16")
      set(_dtype_cpp "DType::kBf16")
    elseif(_dtype STREQUAL "fp16")
      set(_dtype_cpp "DType::kFp16")
    else()
      message(FATAL_ERROR "${_f}: dtype '${_dtype}'; accepted: bf16|fp16")
    endif()
    _dcp_model_field("${_json}" "${_f}" config_url _url)
    foreach(_s IN ITEMS _model _url)
      if("${${_s}}" MATCHES "\\)dcpmodel\"")
        message(FATAL_ERROR "${_f}: a text contains the generator's delimiter")
      endif()
    endforeach()
    string(APPEND _rows
      "    {.name = \"${_name}\",\n"
      "     .model = R\"dcpmodel(${_model})dcpmodel\",\n"
      "     .attention = \"${_attention}\",\n"
      "     .tp = ${_tp},\n"
      "     .num_attention_heads = ${_heads},\n"
      "     .heads_per_rank = ${_hpr},\n"
      "     .head_dim = ${_d},\n"
      "     .lse_base = ${_lse_cpp},\n"
      "     .dtype = ${_dtype_cpp},\n"
      "     .config_url = R\"dcpmodel(${_url})dcpmodel\",\n"
      "     .file = \"configs/models/${_name}.json\"},\n")
  endforeach()
  if(_rows STREQUAL "")
    message(FATAL_ERROR "${_dir}: no model presets (*.json) found")
  endif()
  file(WRITE ${out}.tmp
"// Generated from configs/models/*.json by cmake/DcpModelPresets.cmake; do not edit.
#include \"core/models.hpp\"

namespace dcp::detail {

extern const ModelPreset kModelPresetRows[];
extern const std::size_t kModelPresetCount;

const ModelPreset kModelPresetRows[] = {
${_rows}};
const std::size_t kModelPresetCount = sizeof(kModelPresetRows) / sizeof(kModelPresetRows[0]);

}  // namespace dcp::detail
")
  # Rewritten only when it changes, so a reconfigure does not rebuild core.
  configure_file(${out}.tmp ${out} COPYONLY)
endfunction()
