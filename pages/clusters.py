import streamlit as st

st.title("clusters")
